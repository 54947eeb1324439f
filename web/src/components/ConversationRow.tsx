import { memo, type ReactNode } from "react";

import type { Conversation, MessagePreview } from "../api/types";
import { colourFor, initials, listTime } from "../format";
import { previewParts, previewText } from "../preview";
import { t } from "../strings";

/** Who of the team wrote a list row's message: the viewer ("You"), a colleague by name. */
export function authorOf(p: MessagePreview | null | undefined, me: number): string | null {
  if (p?.direction !== "out") return null;
  if (p.manager_id === null || p.manager_id === undefined) return t.fromPhone;
  return p.manager_id === me ? t.you : (p.manager_name ?? t.formerColleague);
}

/** `text` with the words that begin like one of the query's words marked. */
export function Highlighted({ text, query }: { text: string; query: string }) {
  const words = query.toLowerCase().match(/[\p{L}\p{N}_]+/gu) ?? [];
  if (words.length === 0) return <>{text}</>;
  // The words are letters and digits only: nothing in them needs escaping.
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}_])(?:${words.join("|")})[\\p{L}\\p{N}_]*`, "giu");
  const parts: ReactNode[] = [];
  let at = 0;
  for (const hit of text.matchAll(pattern)) {
    parts.push(text.slice(at, hit.index), <mark key={hit.index}>{hit[0]}</mark>);
    at = hit.index + hit[0].length;
  }
  parts.push(text.slice(at));
  return <>{parts}</>;
}

/** A search hit: its label as the list words it, then its words with the query's marked. */
function Matched({ match, query }: { match: MessagePreview; query: string }) {
  const { label, words } = previewParts(match);
  return (
    <>
      {label && (words ? `${label}: ` : label)}
      {words && <Highlighted text={words} query={query} />}
    </>
  );
}

export const Row = memo(function Row({
  conversation: c,
  active,
  onOpen,
  assignee,
  author = null,
  query = "",
}: {
  conversation: Conversation;
  active: boolean;
  onOpen: (id: number, message?: number) => void;
  assignee: string | undefined;
  /** Who of the team wrote the message shown ("You", a colleague's name), if the team did. */
  author?: string | null;
  query?: string;
}) {
  const name = c.title ?? c.contact?.display_name ?? c.contact?.phone ?? "—";
  return (
    <button
      type="button"
      className={`row${active ? " active" : ""}${c.unread_count > 0 ? " unread" : ""}`}
      aria-current={active ? "true" : undefined}
      data-conversation={c.id}
      onClick={() => onOpen(c.id, c.match?.id)}
    >
      <span className="avatar" style={{ background: colourFor(c.contact?.id ?? c.id) }} aria-hidden="true">
        {initials(name)}
      </span>
      <span className="row-main">
        <span className="row-top">
          <span className="name">{name}</span>
          <span className="badge platform">{t.platforms[c.platform] ?? c.platform}</span>
          <time className="time">{listTime(c.last_message_at)}</time>
        </span>
        <span className="row-bottom">
          <span className="preview">
            {author && <span className="preview-you">{author}: </span>}
            {c.match ? <Matched match={c.match} query={query} /> : c.last_message && previewText(c.last_message)}
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
