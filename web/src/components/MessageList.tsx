import { type RefObject, useMemo, useState } from "react";
import { Virtuoso, type VirtuosoHandle } from "react-virtuoso";

import type { Manager, Message } from "../api/types";
import { dayLabel } from "../format";
import type { Row } from "../state/threadRows";
import { t } from "../strings";
import { HistoryRow } from "./HistoryRow";
import { MessageBubble } from "./MessageBubble";
import { NoteRow } from "./NoteRow";

interface Props {
  rows: Row[];
  /** Virtuoso keeps the reading position when older rows are prepended: see Thread. */
  firstItemIndex: number;
  initial: { index: number; align: "start" | "end" };
  me: Manager;
  byId: Map<number, Message>;
  flash: number | null;
  fetchingOlder: boolean;
  loadOlder: () => void;
  onReply: (m: Message) => void;
  onQuoteClick: (id: number) => void;
  onAtBottom: (bottom: boolean) => void;
  list: RefObject<VirtuosoHandle | null>;
}

/** When the row was: what the floating day over the thread says while its separator is away. */
function whenOf(row: Row | undefined): string | null {
  if (row?.kind === "message") return row.message.created_at;
  if (row?.kind === "note") return row.note.created_at;
  if (row?.kind === "history") return row.change.created_at;
  return null;
}

/** The thread's rows in a virtualised list: only what is on screen is in the DOM. */
export function MessageList({
  rows,
  firstItemIndex,
  initial,
  me,
  byId,
  flash,
  fetchingOlder,
  loadOlder,
  onReply,
  onQuoteClick,
  onAtBottom,
  list,
}: Props) {
  const [topDay, setTopDay] = useState<string | null>(null);
  // Stable: a new component type on every render would remount the header and move the list.
  // biome-ignore lint/correctness/noComponentHookFactories: react-virtuoso takes its parts as components; memoised so the type stays the same
  const components = useMemo(() => ({ Header: () => (fetchingOlder ? <p className="loading-older">{t.loadingOlder}</p> : null) }), [fetchingOlder]);
  return (
    <div className="messages-wrap">
      {topDay && (
        <div className="day-float" aria-hidden="true">
          {topDay}
        </div>
      )}
      <Virtuoso
        ref={list}
        className="messages"
        data={rows}
        firstItemIndex={firstItemIndex}
        initialTopMostItemIndex={initial}
        computeItemKey={(_, row) => row.key}
        startReached={loadOlder}
        followOutput={(bottom) => (bottom ? "auto" : false)}
        increaseViewportBy={{ top: 200, bottom: 400 }}
        rangeChanged={({ startIndex }) => {
          // The day of the topmost row (Virtuoso counts from firstItemIndex).
          const at = startIndex >= firstItemIndex ? startIndex - firstItemIndex : startIndex;
          const top = rows[at];
          const when = whenOf(rows.slice(at).find((r) => r.kind !== "day" && r.kind !== "unread"));
          setTopDay(top && top.kind !== "day" && when ? dayLabel(when) : null);
        }}
        atBottomStateChange={onAtBottom}
        // "At the bottom" within a tall message of it: a message that arrives on a new day
        // (with its date separator) or with a photo must still be followed.
        atBottomThreshold={400}
        // No "probe" pass to guess a row's height (a date separator would be a poor guess):
        // the first messages are painted in the first pass.
        defaultItemHeight={56}
        components={components}
        itemContent={(_, row) => {
          if (row.kind === "day") return <div className="day">{row.label}</div>;
          if (row.kind === "unread") return <div className="unread-marker">{t.unreadMarker(row.count)}</div>;
          if (row.kind === "note") return <NoteRow note={row.note} />;
          if (row.kind === "history") return <HistoryRow change={row.change} me={me} />;
          return (
            <MessageBubble
              message={row.message}
              grouped={row.grouped}
              me={me}
              onReply={onReply}
              quoted={row.message.reply_to ? byId.get(row.message.reply_to) : undefined}
              onQuoteClick={onQuoteClick}
              flash={row.message.id === flash}
            />
          );
        }}
      />
    </div>
  );
}
