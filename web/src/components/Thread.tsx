import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Virtuoso, type VirtuosoHandle } from "react-virtuoso";

import { api, ApiError } from "../api/client";
import type { HistoryEvent, Manager, Message, Note } from "../api/types";
import { clock, dayKey, dayLabel, timeKey } from "../format";
import { changeConversation, changesOf, chronological } from "../state/cache";
import { useBundle, usePageVisible, useThread } from "../state/hooks";
import { t } from "../strings";
import { Composer } from "./Composer";
import { MessageBubble } from "./MessageBubble";
import { HistoryRow } from "./HistoryRow";
import { ThreadHeader } from "./ThreadHeader";

// Virtuoso keeps the reading position when older messages are prepended if the index of the
// first item goes down by as many items: rows before the newest page's first message.
const BASE_INDEX = 1_000_000;
const GROUP_WINDOW = 5 * 60_000;
// How many older pages a jump to a message (a search hit, a quote) may load to reach it: more
// than the search looks back (MATCH_DEPTH messages on the server).
const JUMP_PAGES = 25;
const FLASH_MS = 2_000;
const FEW_UNREAD = 6;

export type Row =
  | { kind: "day"; key: string; label: string }
  | { kind: "unread"; key: string; count: number }
  | { kind: "message"; key: string; message: Message; grouped: boolean }
  | { kind: "note"; key: string; note: Note }
  | { kind: "history"; key: string; change: HistoryEvent };

function senderKey(m: Message): string {
  return `${m.direction}:${m.sender.type}:${m.sender.id ?? ""}`;
}

/** Where the unread messages began when the conversation was opened, and how many there were. */
export interface UnreadMark {
  from: number;
  count: number;
}

/**
 * The thread's rows: date separators, the unread marker, messages grouped by sender, and, where
 * they happened, the team's private notes and the changes to the conversation (`history`,
 * which come with the pages of their time). While older messages are still to be loaded, notes
 * older than the first loaded message wait for them (they would show out of place). The
 * marker says what was unread on opening: messages read as they arrived do not add to it.
 */
export function buildRows(
  messages: Message[],
  unread: UnreadMark | null,
  notes: Note[] = [],
  olderToLoad = false,
  history: HistoryEvent[] = [],
): Row[] {
  const first = messages[0]?.created_at;
  const shown = olderToLoad && first !== undefined ? notes.filter((n) => timeKey(n.created_at) >= timeKey(first)) : notes;
  type Entry =
    | { at: string; message: Message; note?: undefined; change?: undefined }
    | { at: string; note: Note; message?: undefined; change?: undefined }
    | { at: string; change: HistoryEvent; message?: undefined; note?: undefined };
  const entries: Entry[] = messages.map((m) => ({ at: m.created_at, message: m }));
  const extras: Entry[] = [
    ...shown.map((n) => ({ at: n.created_at, note: n })),
    ...history.map((h) => ({ at: h.created_at, change: h })),
  ].sort((a, b) => timeKey(a.at) - timeKey(b.at));
  let i = 0;
  for (const extra of extras) {
    while (i < entries.length && timeKey(entries[i]!.at) <= timeKey(extra.at)) i++;
    entries.splice(i, 0, extra);
    i++;
  }
  const rows: Row[] = [];
  let previousAt: string | null = null;
  let previous: Message | null = null;
  for (const entry of entries) {
    const day = dayKey(entry.at);
    const newDay = previousAt === null || dayKey(previousAt) !== day;
    if (newDay) rows.push({ kind: "day", key: `d${day}`, label: dayLabel(entry.at) });
    previousAt = entry.at;
    if (entry.note) {
      rows.push({ kind: "note", key: `n${entry.note.id}`, note: entry.note });
      previous = null; // a note between two messages ends their group
      continue;
    }
    if (entry.change) {
      rows.push({ kind: "history", key: `h${entry.change.id}`, change: entry.change });
      previous = null;
      continue;
    }
    const m = entry.message;
    let unreadRow = false;
    if (unread !== null && m.id === unread.from) {
      rows.push({ kind: "unread", key: "unread", count: unread.count });
      unreadRow = true;
    }
    const grouped =
      !newDay &&
      !unreadRow &&
      previous !== null &&
      senderKey(previous) === senderKey(m) &&
      new Date(m.created_at).getTime() - new Date(previous.created_at).getTime() < GROUP_WINDOW;
    rows.push({ kind: "message", key: m.id < 0 ? `t${m.client_txn_id}` : `m${m.id}`, message: m, grouped });
    previous = m;
  }
  return rows;
}

/** Whether the message's row is drawn inside the visible part of the thread. */
function inView(id: number): boolean {
  const row = document.querySelector(`.messages [data-message="${id}"]`);
  const scroller = row?.closest(".messages");
  if (!row || !scroller) return false;
  const box = row.getBoundingClientRect();
  const area = scroller.getBoundingClientRect();
  return box.top >= area.top && box.bottom <= area.bottom;
}

export function Thread({
  id,
  me,
  onBack,
  togglePanel,
  focus = null,
}: {
  id: number;
  me: Manager;
  onBack: () => void;
  togglePanel: () => void;
  /** A message to bring into view when the thread opens (the search hit it was opened from). */
  focus?: number | null;
}) {
  const qc = useQueryClient();
  const thread = useThread(id);
  const bundle = useBundle(id);
  const conversation = bundle.data?.conversation;
  const messages = useMemo(() => chronological(thread.data), [thread.data]);
  const byId = useMemo(() => new Map(messages.map((m) => [m.id, m])), [messages]);
  const [replyTo, setReplyTo] = useState<Message | null>(null);
  const [atBottom, setAtBottom] = useState(true);
  const [newCount, setNewCount] = useState(0);
  const [topDay, setTopDay] = useState<string | null>(null);
  const list = useRef<VirtuosoHandle>(null);

  // Where the manager left off: fixed when the conversation opens.
  const unreadFrom = useRef<UnreadMark | null | undefined>(undefined);
  if (unreadFrom.current === undefined && conversation && thread.data) {
    const count = conversation.unread_count;
    const incoming = messages.filter((m) => m.direction === "in");
    const from = count > 0 ? incoming[Math.max(0, incoming.length - count)]?.id : undefined;
    unreadFrom.current = from === undefined ? null : { from, count: Math.min(count, incoming.length) };
  }
  const notes = bundle.data?.notes;
  const olderToLoad = thread.hasNextPage;
  const changes = useMemo(() => changesOf(thread.data), [thread.data]);
  const rows = useMemo(
    () => buildRows(messages, unreadFrom.current ?? null, notes, olderToLoad, changes),
    [messages, notes, olderToLoad, changes],
  );

  const newestFirst = thread.data?.pages[0]?.items[0];
  const anchor = newestFirst ? rows.findIndex((r) => r.kind === "message" && r.message.id === newestFirst.id) : 0;
  const firstItemIndex = BASE_INDEX - Math.max(0, anchor);

  // Opening a conversation with unread messages marks it read (its answer updates the list),
  // and so does a message arriving while the manager looks at the thread's end in a visible
  // tab (WhatsApp then shows the customer it was read); one arriving in a hidden tab, or while
  // the manager reads history further up, stays unread until they come back to it.
  const visible = usePageVisible();
  const opened = useRef(false);
  const reading = useRef(false);
  const unread = conversation?.unread_count ?? 0;
  useEffect(() => {
    if (unread === 0 || reading.current) return;
    if (opened.current && !(visible && atBottom)) return;
    opened.current = true;
    reading.current = true;
    void api
      .read(id)
      .then((c) => changeConversation(qc, c, me.id))
      .finally(() => (reading.current = false));
  }, [unread, visible, atBottom, id, qc, me.id]);

  // New messages while reading history: count them for the jump button.
  const lastId = messages[messages.length - 1]?.id;
  const seenLast = useRef(lastId);
  useEffect(() => {
    if (lastId !== seenLast.current) {
      if (!atBottom) setNewCount((n) => n + 1);
      seenLast.current = lastId;
    }
  }, [lastId, atBottom]);

  // Stable: a new component type on every render would remount the header and move the list.
  const fetchingOlder = thread.isFetchingNextPage;
  const components = useMemo(
    () => ({ Header: () => (fetchingOlder ? <p className="loading-older">{t.loadingOlder}</p> : null) }),
    [fetchingOlder],
  );

  // Bring a message into view: older pages are loaded until it is there (at most JUMP_PAGES),
  // then it is scrolled to the middle and marked for a moment.
  const [wanted, setWanted] = useState<number | null>(focus);
  const [flash, setFlash] = useState<number | null>(null);
  const rowsRef = useRef(rows);
  rowsRef.current = rows;
  // Scroll until the message's row is drawn: the list may still be measuring pages it just
  // got (or get more while it scrolls), so its place is looked up again at every try.
  const reveal = useCallback((id: number) => {
    let tries = 0;
    const attempt = () => {
      // An index into the rows, whatever firstItemIndex is.
      const index = rowsRef.current.findIndex((r) => r.kind === "message" && r.message.id === id);
      if (index >= 0) list.current?.scrollToIndex({ index, align: "center" });
      requestAnimationFrame(() =>
        requestAnimationFrame(() => {
          if (inView(id) || ++tries >= 20) setFlash(id);
          else attempt();
        }),
      );
    };
    attempt();
  }, []);
  useEffect(() => setWanted(focus), [focus]);
  const pagesLoaded = thread.data?.pages.length ?? 0;
  useEffect(() => {
    if (wanted === null || !thread.data) return;
    if (rows.some((r) => r.kind === "message" && r.message.id === wanted)) {
      reveal(wanted);
      setWanted(null);
      return;
    }
    if (thread.hasNextPage && pagesLoaded < JUMP_PAGES) {
      if (!thread.isFetchingNextPage) void thread.fetchNextPage();
    } else {
      setWanted(null); // not within reach (or gone): the thread stays where it is
    }
  }, [wanted, rows, thread, pagesLoaded, reveal]);
  useEffect(() => {
    if (flash === null) return;
    const timer = setTimeout(() => setFlash(null), FLASH_MS);
    return () => clearTimeout(timer);
  }, [flash]);

  const jump = useCallback(() => {
    list.current?.scrollToIndex({ index: "LAST", align: "end", behavior: "smooth" });
    setNewCount(0);
  }, []);

  if (thread.error) {
    const missing = thread.error instanceof ApiError && thread.error.status === 404;
    return (
      <section className="thread empty">
        <p role="alert">{missing ? t.missingConversation : thread.error.message}</p>
        <button type="button" onClick={onBack}>
          {t.backToInbox}
        </button>
      </section>
    );
  }
  if (thread.isPending || !conversation) {
    return (
      <section className="thread" aria-busy="true">
        <div className="skeleton-thread" />
      </section>
    );
  }
  // Open with the newest message at the bottom, where a few unread messages show with their
  // marker anyway; with more than fit on screen, open at the marker.
  const manyUnread = (conversation.unread_count || 0) > FEW_UNREAD;
  const marker = unreadFrom.current && manyUnread ? rows.findIndex((r) => r.kind === "unread") : -1;
  const initial = marker >= 0 ? { index: marker, align: "start" as const } : { index: Math.max(0, rows.length - 1), align: "end" as const };

  return (
    <section className="thread" aria-label={conversation.title ?? undefined}>
      <ThreadHeader conversation={conversation} me={me} onBack={onBack} togglePanel={togglePanel} />
      {rows.length === 0 ? (
        <p className="empty">{t.noMessages}</p>
      ) : (
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
            startReached={() => {
              if (thread.hasNextPage && !thread.isFetchingNextPage) void thread.fetchNextPage();
            }}
            followOutput={(bottom) => (bottom ? "auto" : false)}
            increaseViewportBy={{ top: 200, bottom: 400 }}
            rangeChanged={({ startIndex }) => {
            // The day of the topmost row, floating over the thread while its separator is
            // scrolled away (Virtuoso counts from firstItemIndex).
            const at = startIndex >= firstItemIndex ? startIndex - firstItemIndex : startIndex;
            const top = rows[at];
            const first = rows.slice(at).find((r) => r.kind !== "day" && r.kind !== "unread");
            const when =
              first?.kind === "message"
                ? first.message.created_at
                : first?.kind === "note"
                  ? first.note.created_at
                  : first?.kind === "history"
                    ? first.change.created_at
                    : null;
            setTopDay(top && top.kind !== "day" && when ? dayLabel(when) : null);
          }}
          atBottomStateChange={(bottom) => {
              setAtBottom(bottom);
              if (bottom) setNewCount(0);
            }}
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
                  onReply={setReplyTo}
                  quoted={row.message.reply_to ? byId.get(row.message.reply_to) : undefined}
                  onQuoteClick={setWanted}
                  flash={row.message.id === flash}
                />
              );
            }}
          />
        </div>
      )}
      {!atBottom && (
        <button type="button" className="jump" onClick={jump}>
          {t.newBelow(newCount)}
        </button>
      )}
      <Composer conversation={conversation} me={me} replyTo={replyTo} clearReply={() => setReplyTo(null)} />
    </section>
  );
}

/** A private note in the timeline: the team's, never sent, and drawn so nobody mistakes it. */
function NoteRow({ note }: { note: Note }) {
  return (
    <div className="bubble-row note-row" role="note" aria-label={t.privateNote}>
      <div className="thread-note">
        <span className="note-label">
          {t.privateNote} · {note.author_name ?? t.you}
        </span>
        <div className="text">{note.body}</div>
        <div className="meta">
          {note.edited_at && <span className="edited">{t.edited}</span>}
          <time dateTime={note.created_at}>{clock(note.created_at)}</time>
        </div>
      </div>
    </div>
  );
}
