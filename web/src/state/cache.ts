// The client cache (TanStack Query) and every way it changes in place: from the API's answers,
// from the live connection's frames, and from optimistic messages. Nothing here refetches a
// list; a `resync` frame is the only thing that makes the open views load again.

import type { InfiniteData, QueryClient } from "@tanstack/react-query";

import type { ListFilters } from "../api/client";
import type {
  Bundle,
  Conversation,
  Counts,
  Deal,
  HistoryEvent,
  Label,
  LiveFrame,
  Message,
  MessagePage,
  Note,
  Page,
  Pipeline,
  SavedView,
} from "../api/types";

import { byTime, timeKey } from "../format";
import { applyDeal, dropPipeline, putPipeline } from "./dealCache";
import { keys, type Pages, type ThreadPages } from "./keys";
import { addLabelCounts, before, countsOf, matches } from "./listRules";
import { dropLabel, dropView, putLabel, putView, updateViewCounts } from "./teamCache";

export { keys, type Pages, type ThreadPages } from "./keys";

// --- messages -------------------------------------------------------------------------------

/**
 * Whether `incoming` is an older state of `existing` (an API answer that arrives after the
 * live connection already told of the next tick, or of the deletion): the server's version
 * says so, the browser ranks no statuses of its own.
 */
export function isStale(existing: Message, incoming: Message): boolean {
  return incoming.version < existing.version;
}

/**
 * Put a message into its thread: replace the one with the same id, or the optimistic one with
 * the same client_txn_id (so a reply is always one bubble, whichever of the API's answer and
 * the WebSocket's frame comes first), or, when `add`, add it in time order to the page whose
 * times it falls in. A message older than every loaded one while older pages are still to be
 * loaded is left to them (it would show on the wrong day); a change to a message that is not
 * loaded (`add` false: an update) is nothing to show either.
 */
export function upsertMessage(qc: QueryClient, message: Message, add = true): void {
  qc.setQueryData<ThreadPages>(keys.thread(message.conversation_id), (data) => {
    if (!data) return data;
    let replaced = false;
    const pages = data.pages.map((page) => {
      const items = page.items.map((m) => {
        if (m.id === message.id) {
          replaced = true;
          return isStale(m, message) ? m : message;
        }
        if (!replaced && m.id < 0 && message.client_txn_id && m.client_txn_id === message.client_txn_id) {
          replaced = true;
          if (m.local?.previewUrl) URL.revokeObjectURL(m.local.previewUrl);
          return message;
        }
        return m;
      });
      return { ...page, items };
    });
    if (replaced) {
      // Drop a second copy left by a race between the answer and the frame.
      const seen = new Set<number>();
      return {
        ...data,
        pages: pages.map((page) => ({
          ...page,
          items: page.items.filter((m) => {
            if (seen.has(m.id)) return false;
            seen.add(m.id);
            return true;
          }),
        })),
      };
    }
    if (!add) return data;
    if (pages.length === 0) return { ...data, pages: [{ items: [message], history: [], next_cursor: null }] };
    // Pages run newest first, each oldest to newest: the first page whose oldest message is
    // not newer than this one is where it goes.
    const at = timeKey(message.created_at);
    let target = pages.findIndex((page) => page.items.length > 0 && timeKey(page.items[0]!.created_at) <= at);
    if (target < 0) {
      if (pages[pages.length - 1]!.next_cursor !== null) return data; // older pages will bring it
      target = pages.length - 1;
    }
    return {
      ...data,
      pages: pages.map((page, i) => (i === target ? { ...page, items: [...page.items, message].sort(byTime) } : page)),
    };
  });
}

/** Change the optimistic message (upload progress, a failed request). */
export function patchOptimistic(qc: QueryClient, conversationId: number, clientTxnId: string, change: (m: Message) => Message): void {
  qc.setQueryData<ThreadPages>(keys.thread(conversationId), (data) =>
    data
      ? {
          ...data,
          pages: data.pages.map((page) => ({
            ...page,
            items: page.items.map((m) => (m.id < 0 && m.client_txn_id === clientTxnId ? change(m) : m)),
          })),
        }
      : data,
  );
}

// --- conversations --------------------------------------------------------------------------

function placeInList(data: Pages<Conversation>, c: Conversation, include: boolean, onlyUpdate: boolean): Pages<Conversation> {
  const present = data.pages.some((p) => p.items.some((x) => x.id === c.id));
  if (onlyUpdate) {
    // A search list is the server's answer to the query: changed rows update, none move in.
    if (!present) return data;
    // The message the search found stays (a frame knows no search).
    const keep = (x: Conversation): Conversation => ({ ...c, match: c.match ?? x.match });
    return { ...data, pages: data.pages.map((p) => ({ ...p, items: p.items.map((x) => (x.id === c.id ? keep(x) : x)) })) };
  }
  const pages = data.pages.map((p) => ({ ...p, items: p.items.filter((x) => x.id !== c.id) }));
  if (include) {
    const last = pages[pages.length - 1];
    const all = pages.flatMap((p) => p.items);
    const tail = all[all.length - 1];
    // Beyond the loaded pages it arrives with the page that holds it.
    const fits = !last?.next_cursor || (tail !== undefined && before(c, tail));
    if (fits) {
      for (const page of pages) {
        const at = page.items.findIndex((x) => before(c, x));
        if (at >= 0) {
          page.items.splice(at, 0, c);
          return { ...data, pages };
        }
      }
      if (last) last.items.push(c);
      else pages.push({ items: [c], next_cursor: null });
    }
  }
  return { ...data, pages };
}

/** The conversation as the cache knows it (from a list or an open bundle), if anywhere. */
export function knownConversation(qc: QueryClient, id: number): Conversation | undefined {
  const bundle = qc.getQueryData<Bundle>(keys.bundle(id));
  if (bundle) return bundle.conversation;
  for (const [, data] of qc.getQueriesData<Pages<Conversation>>({ queryKey: keys.lists })) {
    for (const page of data?.pages ?? []) {
      const found = page.items.find((x) => x.id === id);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * The tab counts after a conversation changed from `before` to `after`: computed in place when
 * the earlier state is known; false when it is not (the caller fetches the counts).
 */
export function updateCounts(qc: QueryClient, before: Conversation | undefined, after: Conversation | undefined, me: number | null): boolean {
  if (!before && after) return false;
  const counts = qc.getQueryData<Counts>(keys.counts);
  if (!counts) {
    updateViewCounts(qc, before, after, me);
    return true;
  }
  const was = countsOf(before, me);
  const is = countsOf(after, me);
  qc.setQueryData<Counts>(keys.counts, {
    mine: counts.mine - was.mine + is.mine,
    unassigned: counts.unassigned - was.unassigned + is.unassigned,
    all_open: counts.all_open - was.all_open + is.all_open,
    unread: counts.unread - was.unread + is.unread,
    labels: addLabelCounts(counts.labels, is.labels, was.labels),
  });
  updateViewCounts(qc, before, after, me);
  return true;
}

/** A conversation changed: every cached list moves or drops it, the open bundle shows it. */
export function applyConversation(qc: QueryClient, c: Conversation, me: number | null): void {
  for (const [key, data] of qc.getQueriesData<Pages<Conversation>>({ queryKey: keys.lists })) {
    if (!data) continue;
    const filters = key[1] as ListFilters;
    const searching = filters.q.trim() !== "";
    qc.setQueryData(key, placeInList(data, c, matches(filters, c, me), searching));
  }
  qc.setQueryData<Bundle>(keys.bundle(c.id), (b) => (b ? { ...b, conversation: c, contact: c.contact } : b));
  // Merged into another: that one's thread holds this one's messages now, which no frame lists.
  if (c.merged_into != null) void qc.invalidateQueries({ queryKey: keys.thread(c.merged_into) });
}

/**
 * Put a conversation's new state everywhere (lists, bundle, tab counts), from an answer, a
 * frame or an optimistic change; true when the counts could not follow in place.
 */
// The newest version of each conversation this page was told of, also of those no list holds
// any more (resolved out of the open list): an older copy must not bring one back.
const newestVersions = new WeakMap<QueryClient, Map<number, number>>();

export function changeConversation(qc: QueryClient, c: Conversation, me: number | null): boolean {
  const before = knownConversation(qc, c.id);
  let versions = newestVersions.get(qc);
  if (!versions) {
    versions = new Map();
    newestVersions.set(qc, versions);
  }
  // An older copy (an action's answer arriving after a later change) puts nothing back.
  if (c.version < Math.max(versions.get(c.id) ?? 0, before?.version ?? 0)) return false;
  versions.set(c.id, c.version);
  applyConversation(qc, c, me);
  return !updateCounts(qc, before, c, me);
}

export function hideConversation(qc: QueryClient, id: number): void {
  for (const [key, data] of qc.getQueriesData<Pages<Conversation>>({ queryKey: keys.lists })) {
    if (!data) continue;
    qc.setQueryData(key, {
      ...data,
      pages: data.pages.map((p) => ({ ...p, items: p.items.filter((x) => x.id !== id) })),
    });
  }
  qc.removeQueries({ queryKey: keys.bundle(id) });
  qc.removeQueries({ queryKey: keys.thread(id) });
}

/** A change to the conversation, as it happens: it belongs to the newest page (it spans up
 * to now); one the thread has already is not added twice. */
export function addHistory(qc: QueryClient, event: HistoryEvent): void {
  qc.setQueryData<ThreadPages>(keys.thread(event.conversation_id), (data) => {
    const newest = data?.pages[0];
    if (!data || !newest || data.pages.some((p) => p.history.some((h) => h.id === event.id))) return data;
    return { ...data, pages: [{ ...newest, history: [...newest.history, event].sort(byTime) }, ...data.pages.slice(1)] };
  });
}

export function addNote(qc: QueryClient, note: Note): void {
  qc.setQueryData<Bundle>(keys.bundle(note.conversation_id), (b) =>
    b && !b.notes.some((n) => n.id === note.id) ? { ...b, notes: [...b.notes, note] } : b,
  );
}

/** A note changed (its new text) or deleted (gone from the thread and the panel). */
export function changeNote(qc: QueryClient, note: Note): void {
  qc.setQueryData<Bundle>(keys.bundle(note.conversation_id), (b) =>
    b ? { ...b, notes: note.deleted_at ? b.notes.filter((n) => n.id !== note.id) : b.notes.map((n) => (n.id === note.id ? note : n)) } : b,
  );
}

// --- the live connection ----------------------------------------------------------------------

export interface FrameOutcome {
  resync: boolean;
  /** The tab counts could not be updated in place (the conversation was unknown here). */
  countsStale: boolean;
  /** A view's count is not known here (another tab saved it, or changed its filters). */
  viewsStale?: boolean;
}

/** The id a frame of something gone or hidden carries (`{"id": …}`). */
function idOf(frame: LiveFrame): number {
  return (frame.data as { id: number }).id;
}

/** Apply one frame of `/api/v1/ws` to the cache, in place. */
export function applyFrame(qc: QueryClient, frame: LiveFrame, me: number | null): FrameOutcome {
  const done = { resync: false, countsStale: false };
  switch (frame.type) {
    case "message.created":
    case "message.updated":
      upsertMessage(qc, frame.data as Message, frame.type === "message.created");
      return done;
    case "conversation.created":
    case "conversation.updated":
      return { ...done, countsStale: changeConversation(qc, frame.data as Conversation, me) };
    case "conversation.hidden": {
      const id = idOf(frame);
      const before = knownConversation(qc, id);
      hideConversation(qc, id);
      return { ...done, countsStale: !before || !updateCounts(qc, before, undefined, me) };
    }
    case "note.created":
      addNote(qc, frame.data as Note);
      return done;
    case "note.updated":
      changeNote(qc, frame.data as Note);
      return done;
    case "history.created":
      addHistory(qc, frame.data as HistoryEvent);
      return done;
    case "label.updated":
      putLabel(qc, frame.data as Label);
      return done;
    case "label.deleted":
      dropLabel(qc, idOf(frame));
      void qc.invalidateQueries({ queryKey: keys.boards }); // its deals lose it too
      return done;
    case "deal.updated":
      applyDeal(qc, (frame.data as Deal).id, frame.data as Deal);
      return done;
    case "deal.hidden":
    case "deal.deleted":
      applyDeal(qc, idOf(frame), null);
      return done;
    case "pipeline.updated":
      putPipeline(qc, frame.data as Pipeline);
      return done;
    case "pipeline.deleted":
      dropPipeline(qc, idOf(frame));
      return done;
    case "view.updated":
      return { ...done, viewsStale: putView(qc, frame.data as SavedView) };
    case "view.deleted":
      dropView(qc, idOf(frame));
      return done;
    case "resync":
      return { ...done, resync: true };
    default:
      return done;
  }
}

/** After `resync`: every open view loads once more; lists start again from their first page. */
export async function resync(qc: QueryClient): Promise<void> {
  qc.setQueriesData<Pages<unknown>>({ queryKey: keys.lists }, (data) =>
    data ? { pages: data.pages.slice(0, 1), pageParams: data.pageParams.slice(0, 1) } : data,
  );
  await qc.invalidateQueries();
}

/** A list's rows in order (its pages were loaded first to last). */
export function flatten<T>(data: InfiniteData<Page<T>, unknown> | undefined): T[] {
  return data ? data.pages.flatMap((p) => p.items) : [];
}

/** A thread's messages oldest first (its first page is the newest). */
export function chronological(data: InfiniteData<Page<Message>, unknown> | undefined): Message[] {
  return data ? [...data.pages].reverse().flatMap((p) => p.items) : [];
}

/** A thread's changes to the conversation, oldest first. */
export function changesOf(data: InfiniteData<MessagePage, unknown> | undefined): HistoryEvent[] {
  return data ? [...data.pages].reverse().flatMap((p) => p.history) : [];
}
