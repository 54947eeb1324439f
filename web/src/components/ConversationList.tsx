import { useQueryClient } from "@tanstack/react-query";
import { memo, useEffect, useMemo, useState, type FormEvent, type ReactNode, type RefObject } from "react";
import { Virtuoso } from "react-virtuoso";

import { api, type ListFilters } from "../api/client";
import type { Conversation, Manager, MessagePreview, Status } from "../api/types";
import { colourFor, initials, listTime } from "../format";
import { previewParts, previewText } from "../preview";
import { changeConversation, flatten } from "../state/cache";
import { useConversations, useCounts } from "../state/hooks";
import { t } from "../strings";
import { DEFAULT_FILTERS } from "./Inbox";
import { Icon } from "./Icon";

interface Props {
  filters: ListFilters;
  setFilters: (f: ListFilters) => void;
  selected: number | null;
  /** Open a conversation; from a search hit, at the message that matched. */
  select: (id: number, message?: number) => void;
  me: Manager;
  searchRef: RefObject<HTMLInputElement | null>;
}

const PLATFORMS = Object.keys(t.platforms);

/** Open a chat with a phone number: the bridge makes the portal, the CRM answers with its
 * conversation once it has arrived, and the inbox opens it. */
function NewChat({ select, me }: { select: (id: number) => void; me: Manager }) {
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [phone, setPhone] = useState("");
  const [note, setNote] = useState<string | null>(null);
  if (!open) {
    return (
      <button type="button" className="new-chat" onClick={() => setOpen(true)}>
        + {t.newChat.open}
      </button>
    );
  }
  function submit(e: FormEvent) {
    e.preventDefault();
    setNote(null);
    api.newConversation(phone).then(
      (answer) => {
        if ("id" in answer) {
          changeConversation(qc, answer, me.id);
          select(answer.id);
          setOpen(false);
          setPhone("");
        } else setNote(t.newChat.waiting);
      },
      (err: Error) => setNote(err.message),
    );
  }
  return (
    <form noValidate className="new-chat" onSubmit={submit}>
      <input type="tel" required autoFocus value={phone} onChange={(e) => setPhone(e.target.value)} placeholder={t.newChat.example} aria-label={t.newChat.phone} title={t.newChat.phone} />
      <button type="submit">{t.newChat.start}</button>
      <button type="button" className="icon-button" onClick={() => setOpen(false)} aria-label={t.cancel}>
        <Icon name="close" />
      </button>
      {note && <p role="status">{note}</p>}
    </form>
  );
}

/** Who of the team wrote a list row's message: the viewer ("You"), a colleague by name. */
export function authorOf(p: MessagePreview | null | undefined, me: number): string | null {
  if (!p || p.direction !== "out") return null;
  if (p.manager_id === null || p.manager_id === undefined) return t.fromPhone;
  return p.manager_id === me ? t.you : (p.manager_name ?? t.formerColleague);
}

export function ConversationList({ filters, setFilters, selected, select, searchRef, me }: Props) {
  const list = useConversations(filters);
  const counts = useCounts();
  const rows = useMemo(() => flatten(list.data), [list.data]);
  const [query, setQuery] = useState(filters.q);

  // The search runs a moment after typing stops, not on every key.
  useEffect(() => {
    if (query === filters.q) return;
    const timer = setTimeout(() => setFilters({ ...filters, q: query }), 250);
    return () => clearTimeout(timer);
  }, [query, filters, setFilters]);

  const tab = (name: ListFilters["tab"], label: string, count: number | undefined) => (
    <button
      type="button"
      role="tab"
      aria-selected={filters.tab === name}
      className={filters.tab === name ? "active" : ""}
      title={t.tabCounts[name]}
      aria-description={t.tabCounts[name]}
      onClick={() => setFilters({ ...filters, tab: name })}
    >
      {label} {count !== undefined && <span className="count">{count}</span>}
    </button>
  );
  const d = DEFAULT_FILTERS;
  const filtered = filters.status !== d.status || filters.platform || filters.unread || filters.archived || filters.q;
  // A search in the default view looks at open conversations only: said, with the way out.
  const narrowSearch = filters.q !== "" && filters.status === "open";

  return (
    <nav className="list" aria-label="Conversations">
      <div role="tablist" className="tabs">
        {tab("mine", t.tabs.mine, counts.data?.mine)}
        {tab("unassigned", t.tabs.unassigned, counts.data?.unassigned)}
        {tab("all", t.tabs.all, counts.data?.all_open)}
      </div>
      <NewChat select={select} me={me} />
      <input
        ref={searchRef}
        type="search"
        className="search"
        placeholder={t.search}
        aria-label={t.search}
        value={query}
        onChange={(e) => setQuery(e.target.value)}
      />
      <div className="chips">
        <select
          aria-label={t.filters.status}
          value={filters.status ?? ""}
          onChange={(e) => setFilters({ ...filters, status: (e.target.value || null) as Status | null })}
        >
          <option value="">{t.filters.anyStatus}</option>
          {(["open", "pending", "resolved", "snoozed"] as const).map((s) => (
            <option key={s} value={s}>
              {t.status[s]}
            </option>
          ))}
        </select>
        <select
          aria-label={t.filters.platform}
          value={filters.platform ?? ""}
          onChange={(e) => setFilters({ ...filters, platform: e.target.value || null })}
        >
          <option value="">{t.filters.anyPlatform}</option>
          {PLATFORMS.map((p) => (
            <option key={p} value={p}>
              {t.platforms[p]}
            </option>
          ))}
        </select>
        <label className="chip">
          <input type="checkbox" checked={filters.unread} onChange={(e) => setFilters({ ...filters, unread: e.target.checked })} />
          {t.filters.unread}
        </label>
        <label className="chip">
          <input
            type="checkbox"
            checked={filters.archived}
            onChange={(e) => setFilters({ ...filters, archived: e.target.checked })}
          />
          {t.filters.archived}
        </label>
      </div>
      {narrowSearch && (
        <p className="search-scope">
          {t.onlyOpenSearched}{" "}
          <button type="button" className="link" onClick={() => setFilters({ ...filters, status: null })}>
            {t.searchEveryStatus}
          </button>
        </p>
      )}
      {list.isPending ? (
        <ul className="skeleton" aria-busy="true">
          {Array.from({ length: 8 }, (_, i) => (
            <li key={i} />
          ))}
        </ul>
      ) : rows.length === 0 ? (
        <p className="empty">
          {t.emptyList}
          {filtered && (
            <>
              {" — "}
              <button
                type="button"
                className="link"
                onClick={() => {
                  setQuery("");
                  setFilters({ ...DEFAULT_FILTERS, tab: filters.tab });
                }}
              >
                {t.filters.clear}
              </button>
            </>
          )}
        </p>
      ) : (
        <Virtuoso
          className="rows"
          data={rows}
          computeItemKey={(_, c) => c.id}
          endReached={() => {
            if (list.hasNextPage && !list.isFetchingNextPage) void list.fetchNextPage();
          }}
          itemContent={(_, c) => (
            <Row
              conversation={c}
              active={c.id === selected}
              onOpen={select}
              assignee={c.assignee_name ?? undefined}
              // In a search, the message that matched stands where the last message would.
              author={authorOf(c.match ?? c.last_message, me.id)}
              query={filters.q}
            />
          )}
        />
      )}
    </nav>
  );
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
