import { memo, type ReactNode } from "react";

import type { Conversation, MessagePreview } from "../api/types";
import { colourFor, initials, listTime } from "../format";
import { previewParts, previewText } from "../preview";
import { t } from "../strings";
import { LabelChips } from "./Labels";
import { NumberBadge } from "./NumberBadge";

/** Who of the team wrote a list row's message: the viewer ("You"), a colleague by name. */
export function authorOf(p: MessagePreview | null | undefined, me: number): string | null {
  if (p?.direction !== "out") return null;
  if (p.manager_id === null || p.manager_id === undefined) return t.fromPhone;
  return p.manager_id === me ? t.you : (p.manager_name ?? t.formerColleague);
}

/** `text` with the words that begin like one of the search's `words` (the server's reading of
 * the query, sent with the list) marked. */
export function Highlighted({ text, words }: { text: string; words: readonly string[] }) {
  if (words.length === 0) return <>{text}</>;
  const parts: ReactNode[] = [];
  let at = 0;
  for (const hit of text.matchAll(/[\p{L}\p{N}_]+/gu)) {
    const word = hit[0].toLowerCase();
    if (!words.some((w) => word.startsWith(w))) continue;
    parts.push(text.slice(at, hit.index), <mark key={hit.index}>{hit[0]}</mark>);
    at = hit.index + hit[0].length;
  }
  parts.push(text.slice(at));
  return <>{parts}</>;
}

/** A search hit: its label as the list words it, then its words with the search's marked. */
function Matched({ match, words }: { match: MessagePreview; words: readonly string[] }) {
  const { label, words: text } = previewParts(match);
  return (
    <>
      {label && (text ? `${label}: ` : label)}
      {text && <Highlighted text={text} words={words} />}
    </>
  );
}

export const Row = memo(function Row({
  conversation: c,
  active,
  onOpen,
  onRange,
  onHover,
  assignee,
  author = null,
  words = [],
  numbers = false,
}: {
  conversation: Conversation;
  active: boolean;
  onOpen: (id: number, message?: number) => void;
  /** Shift+click: select the rows up to this one instead of opening it. */
  onRange?: (id: number) => void;
  /** The pointer is over the row: it may be opened next (its conversation is fetched ahead). */
  onHover?: (id: number) => void;
  assignee: string | undefined;
  /** Who of the team wrote the message shown ("You", a colleague's name), if the team did. */
  author?: string | null;
  /** The business has several numbers: the row says which this chat is on. */
  numbers?: boolean;
  /** The search's words (the list's answer has them), marked in the hit. */
  words?: readonly string[];
}) {
  const name = c.title ?? c.contact?.display_name ?? c.contact?.phone ?? "—";
  return (
    <button
      type="button"
      className={`row${active ? " active" : ""}${c.unread_count > 0 ? " unread" : ""}`}
      aria-current={active ? "true" : undefined}
      data-conversation={c.id}
      onClick={(e) => (e.shiftKey && onRange ? onRange(c.id) : onOpen(c.id, c.match?.id))}
      onPointerEnter={onHover && (() => onHover(c.id))}
    >
      <span className="avatar" style={{ background: colourFor(c.contact?.id ?? c.id) }} aria-hidden="true">
        {initials(name)}
      </span>
      <span className="row-main">
        <span className="row-top">
          <span className="name">{name}</span>
          <LabelChips ids={c.label_ids} max={2} />
          <span className="badge platform">{t.platforms[c.platform] ?? c.platform}</span>
          <NumberBadge number={c.number} shown={numbers} />
          <time className="time">{listTime(c.last_message_at)}</time>
        </span>
        <span className="row-bottom">
          <span className="preview">
            {author && <span className="preview-you">{author}: </span>}
            {c.match ? <Matched match={c.match} words={words} /> : c.last_message && previewText(c.last_message)}
          </span>
          {c.status !== "open" && <span className={`badge status-${c.status}`}>{t.status[c.status]}</span>}
          {assignee && (
            <span className="assignee" title={assignee}>
              {initials(assignee)}
            </span>
          )}
          {c.unread_count > 0 && <span className="unread-count">{c.unread_count}</span>}
        </span>
      </span>
    </button>
  );
});

/**
 * A row that can be ticked for a change to many at once: its checkbox sits over the avatar
 * (shown on hover, and on every row once one is ticked); Shift+click ticks the rows between it
 * and the last one ticked, on the checkbox or the row itself.
 */
export const Picked = memo(function Picked({
  picked,
  picking,
  onPick,
  onOpen,
  ...row
}: Parameters<typeof Row>[0] & {
  picked: boolean;
  /** Some row is ticked: every row shows its checkbox. */
  picking: boolean;
  onPick: (id: number, range: boolean) => void;
}) {
  const c = row.conversation;
  const name = c.title ?? c.contact?.display_name ?? c.contact?.phone ?? "—";
  return (
    <div className={`row-pick${picked ? " picked" : ""}${picking ? " picking" : ""}`}>
      <input
        type="checkbox"
        className="pick"
        checked={picked}
        aria-label={t.bulk.pick(name)}
        onChange={() => {}}
        onClick={(e) => onPick(c.id, e.shiftKey)}
      />
      <Row {...row} onOpen={onOpen} onRange={(id) => onPick(id, true)} />
    </div>
  );
});
