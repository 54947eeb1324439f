import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";

import { type ListFilters, listQuery } from "../api/client";
import type { Bundle, Conversation, Counts, HistoryEvent, Label, Message, Note, SavedView, ViewList } from "../api/types";
import { conversation, message, preview } from "../test/fixtures";
import { DEFAULT_FILTERS } from "./filters";
import { filtersOfView, sameFilters } from "./views";
import { applyFrame, changesOf, chronological, flatten, keys, resync, upsertMessage, type Pages, type ThreadPages } from "./cache";

function withThread(qc: QueryClient, pages: Message[][], older = false): void {
  qc.setQueryData<ThreadPages>(keys.thread(1), {
    pages: pages.map((items, i) => ({ items, history: [], next_cursor: i < pages.length - 1 || older ? `c${i}` : null })),
    pageParams: pages.map((_, i) => (i === 0 ? null : `c${i - 1}`)),
  });
}

function thread(qc: QueryClient): Message[] {
  return chronological(qc.getQueryData<Pages<Message>>(keys.thread(1)));
}

function withList(qc: QueryClient, f: ListFilters, rows: Conversation[], more = false): void {
  qc.setQueryData<Pages<Conversation>>(keys.list(f), { pages: [{ items: rows, next_cursor: more ? "next" : null }], pageParams: [null] });
}

function list(qc: QueryClient, f: ListFilters): number[] {
  return flatten(qc.getQueryData<Pages<Conversation>>(keys.list(f))).map((c) => c.id);
}

describe("history frames", () => {
  it("add a change to the newest page once", () => {
    const qc = new QueryClient();
    withThread(qc, [
      [message(3), message(4)],
      [message(1), message(2)],
    ]);
    const change: HistoryEvent = {
      id: 7,
      conversation_id: 1,
      change: "status",
      cause: "manager",
      actor_id: 9,
      actor_name: "Eve",
      assignee_id: null,
      assignee_name: null,
      status: "resolved",
      snoozed_until: null,
      archived: null,
      created_at: "2026-01-01T10:00:00Z",
    };
    applyFrame(qc, { type: "history.created", seq: 1, data: change }, 9);
    applyFrame(qc, { type: "history.created", seq: 2, data: change }, 9);
    const data = qc.getQueryData<ThreadPages>(keys.thread(1));
    expect(changesOf(data).map((h) => h.id)).toEqual([7]);
    expect(data?.pages[0]?.history).toHaveLength(1);
  });
});

describe("message frames", () => {
  it("append to an open thread in time order and replace by id", () => {
    const qc = new QueryClient();
    withThread(qc, [
      [message(3), message(4)],
      [message(1), message(2)],
    ]);
    applyFrame(qc, { type: "message.created", seq: 1, data: message(5) }, 9);
    expect(thread(qc).map((m) => m.id)).toEqual([1, 2, 3, 4, 5]);
    applyFrame(qc, { type: "message.updated", seq: 2, data: message(2, { body: "edited", edited_at: "x" }) }, 9);
    expect(thread(qc).find((m) => m.id === 2)?.body).toBe("edited");
    expect(thread(qc)).toHaveLength(5);
  });

  it("leave a thread that is not open alone", () => {
    const qc = new QueryClient();
    applyFrame(qc, { type: "message.created", seq: 1, data: message(5, { conversation_id: 2 }) }, 9);
    expect(qc.getQueryData(keys.thread(2))).toBeUndefined();
  });

  it("replace the optimistic bubble, whichever of answer and frame comes first", () => {
    for (const order of ["answer-first", "frame-first"]) {
      const qc = new QueryClient();
      withThread(qc, [[message(1)]]);
      const optimistic = message(-1, { client_txn_id: "t1", direction: "out", status: "pending", sender: { type: "manager", id: 9, name: "Me" } });
      upsertMessage(qc, optimistic);
      const answer = message(7, { client_txn_id: "t1", direction: "out", status: "pending", version: 1 });
      const frame = message(7, { client_txn_id: "t1", direction: "out", status: "sent", version: 2 });
      if (order === "answer-first") {
        upsertMessage(qc, answer);
        applyFrame(qc, { type: "message.updated", seq: 3, data: frame }, 9);
      } else {
        applyFrame(qc, { type: "message.created", seq: 3, data: frame }, 9);
        upsertMessage(qc, answer); // the API's older answer arrives last
      }
      const mine = thread(qc).filter((m) => m.client_txn_id === "t1");
      expect(mine).toHaveLength(1);
      expect(mine[0]?.id).toBe(7);
      expect(mine[0]?.status).toBe("sent"); // never moved back by the older answer
    }
  });

  it("keep the newer copy by the server's version, whatever the statuses say", () => {
    const qc = new QueryClient();
    withThread(qc, [[message(1, { direction: "out", status: "read", version: 4 })]]);
    upsertMessage(qc, message(1, { direction: "out", status: "delivered", version: 3 }));
    expect(thread(qc)[0]?.status).toBe("read");
    upsertMessage(qc, message(1, { direction: "out", status: "failed", error: "no", version: 5 }));
    upsertMessage(qc, message(1, { direction: "out", status: "pending", version: 6 })); // a retry
    expect(thread(qc)[0]?.status).toBe("pending");
    upsertMessage(qc, message(1, { direction: "out", status: "failed", version: 5 }));
    expect(thread(qc)[0]?.status).toBe("pending");
  });
});

describe("conversation frames", () => {
  it("move an updated conversation to the top of the lists it belongs to, in place", () => {
    const qc = new QueryClient();
    const all = DEFAULT_FILTERS;
    const mine: ListFilters = { ...DEFAULT_FILTERS, tab: "mine" };
    withList(qc, all, [conversation(1, 30), conversation(2, 20), conversation(3, 10)]);
    withList(qc, mine, [conversation(2, 20, { assignee_id: 9 })]);
    applyFrame(qc, { type: "conversation.updated", seq: 1, data: conversation(3, 40) }, 9);
    expect(list(qc, all)).toEqual([3, 1, 2]);
    expect(list(qc, mine)).toEqual([2]);
    // Assigned to me: it joins "Mine"; unassigned again: it leaves.
    applyFrame(qc, { type: "conversation.updated", seq: 2, data: conversation(3, 40, { assignee_id: 9 }) }, 9);
    expect(list(qc, mine)).toEqual([3, 2]);
    applyFrame(qc, { type: "conversation.updated", seq: 3, data: conversation(3, 40) }, 9);
    expect(list(qc, mine)).toEqual([2]);
  });

  it("add a new conversation, drop archived and hidden ones", () => {
    const qc = new QueryClient();
    withList(qc, DEFAULT_FILTERS, [conversation(1, 30)]);
    applyFrame(qc, { type: "conversation.created", seq: 1, data: conversation(5, 50) }, 9);
    expect(list(qc, DEFAULT_FILTERS)).toEqual([5, 1]);
    applyFrame(qc, { type: "conversation.updated", seq: 2, data: conversation(5, 50, { is_archived: true }) }, 9);
    expect(list(qc, DEFAULT_FILTERS)).toEqual([1]);
    applyFrame(qc, { type: "conversation.hidden", seq: 3, data: { id: 1 } }, 9);
    expect(list(qc, DEFAULT_FILTERS)).toEqual([]);
  });

  it("drop a conversation merged into another and reload the other's thread, which holds its messages now", () => {
    const qc = new QueryClient();
    withList(qc, DEFAULT_FILTERS, [conversation(2, 30), conversation(1, 20)]);
    withThread(qc, [[message(3)]]);
    applyFrame(qc, { type: "conversation.updated", seq: 1, data: conversation(2, 30, { version: 2, merged_into: 1 }) }, 9);
    expect(list(qc, DEFAULT_FILTERS)).toEqual([1]);
    expect(qc.getQueryState(keys.thread(1))?.isInvalidated).toBe(true);
  });

  it("never insert beyond the loaded pages, and never into a search's answer", () => {
    const qc = new QueryClient();
    withList(qc, DEFAULT_FILTERS, [conversation(1, 30), conversation(2, 20)], true);
    applyFrame(qc, { type: "conversation.updated", seq: 1, data: conversation(9, 5) }, 9);
    expect(list(qc, DEFAULT_FILTERS)).toEqual([1, 2]); // older than the last row: comes with its page
    const search = { ...DEFAULT_FILTERS, q: "ana" };
    const match = preview(4, "in", "ana's sofa");
    withList(qc, search, [conversation(1, 30, { match })]);
    applyFrame(qc, { type: "conversation.updated", seq: 2, data: conversation(7, 60) }, 9);
    expect(list(qc, search)).toEqual([1]);
    applyFrame(qc, { type: "conversation.updated", seq: 3, data: conversation(1, 60, { title: "renamed" }) }, 9);
    const row = flatten(qc.getQueryData<Pages<Conversation>>(keys.list(search)))[0];
    expect(row?.title).toBe("renamed");
    expect(row?.match).toEqual(match); // what the search found stays
  });

  it("update the open bundle and its notes", () => {
    const qc = new QueryClient();
    const bundle: Bundle = {
      conversation: conversation(1, 1),
      contact: null,
      orders: [],
      deals: [],
      notes: [],
      draft: null,
      messages: { items: [], history: [], next_cursor: null },
    };
    qc.setQueryData(keys.bundle(1), bundle);
    applyFrame(qc, { type: "conversation.updated", seq: 1, data: conversation(1, 1, { status: "resolved" }) }, 9);
    const note: Note = {
      id: 3,
      conversation_id: 1,
      author_id: 9,
      author_name: "Me",
      body: "call back",
      created_at: "2026-01-01T10:00:00Z",
      edited_at: null,
      deleted_at: null,
    };
    applyFrame(qc, { type: "note.created", seq: 2, data: note }, 9);
    applyFrame(qc, { type: "note.created", seq: 3, data: note }, 9);
    const after = qc.getQueryData<Bundle>(keys.bundle(1));
    expect(after?.conversation.status).toBe("resolved");
    expect(after?.notes).toHaveLength(1);
  });
});

describe("counts", () => {
  it("follow a known conversation in place, and ask for a fetch for an unknown one", () => {
    const qc = new QueryClient();
    qc.setQueryData(keys.counts, { mine: 0, unassigned: 2, all_open: 2, unread: 1, labels: {} });
    withList(qc, DEFAULT_FILTERS, [conversation(1, 30, { unread_count: 2 }), conversation(2, 20)]);
    const read = applyFrame(qc, { type: "conversation.updated", seq: 1, data: conversation(1, 30) }, 9);
    expect(read.countsStale).toBe(false);
    const mine = applyFrame(qc, { type: "conversation.updated", seq: 2, data: conversation(2, 20, { assignee_id: 9 }) }, 9);
    expect(mine.countsStale).toBe(false);
    expect(qc.getQueryData(keys.counts)).toEqual({ mine: 1, unassigned: 1, all_open: 2, unread: 0, labels: {} });
    const unknown = applyFrame(qc, { type: "conversation.created", seq: 3, data: conversation(7, 40) }, 9);
    expect(unknown.countsStale).toBe(true);
  });
});

describe("labels", () => {
  const vip: Label = { id: 5, name: "VIP", colour: "#c62828", created_at: "2026-12-01T10:00:00Z" };

  it("count the open conversations per label as they are labelled, resolved and unlabelled", () => {
    const qc = new QueryClient();
    qc.setQueryData(keys.counts, { mine: 0, unassigned: 2, all_open: 2, unread: 0, labels: { "5": 1 } });
    withList(qc, DEFAULT_FILTERS, [conversation(1, 30, { label_ids: [5] }), conversation(2, 20)]);
    applyFrame(qc, { type: "conversation.updated", seq: 1, data: conversation(2, 20, { version: 2, label_ids: [5, 6] }) }, 9);
    expect(qc.getQueryData<Counts>(keys.counts)?.labels).toEqual({ "5": 2, "6": 1 });
    applyFrame(qc, { type: "conversation.updated", seq: 2, data: conversation(1, 30, { version: 2, label_ids: [5], status: "resolved" }) }, 9);
    applyFrame(qc, { type: "conversation.updated", seq: 3, data: conversation(2, 20, { version: 3, label_ids: [5] }) }, 9);
    expect(qc.getQueryData<Counts>(keys.counts)?.labels).toEqual({ "5": 1 });
  });

  it("move a conversation into a label's list when it is labelled, and out when not", () => {
    const qc = new QueryClient();
    const filters = { ...DEFAULT_FILTERS, labels: [5] };
    withList(qc, filters, [conversation(1, 30, { label_ids: [5] })]);
    applyFrame(qc, { type: "conversation.updated", seq: 1, data: conversation(2, 40, { label_ids: [5] }) }, 9);
    expect(flatten(qc.getQueryData<Pages<Conversation>>(keys.list(filters))).map((c) => c.id)).toEqual([2, 1]);
    applyFrame(qc, { type: "conversation.updated", seq: 2, data: conversation(1, 30, { version: 2, label_ids: [] }) }, 9);
    expect(flatten(qc.getQueryData<Pages<Conversation>>(keys.list(filters))).map((c) => c.id)).toEqual([2]);
  });

  it("keep the team's list in name order, and a deleted one goes from every row and count", () => {
    const qc = new QueryClient();
    qc.setQueryData(keys.labels, { items: [vip] });
    applyFrame(qc, { type: "label.updated", seq: 1, data: { ...vip, id: 6, name: "complaint" } }, 9);
    applyFrame(qc, { type: "label.updated", seq: 2, data: { ...vip, name: "Big fish" } }, 9);
    expect(qc.getQueryData<{ items: Label[] }>(keys.labels)?.items.map((l) => l.name)).toEqual(["Big fish", "complaint"]);

    qc.setQueryData(keys.counts, { mine: 0, unassigned: 1, all_open: 1, unread: 0, labels: { "5": 1, "6": 1 } });
    withList(qc, DEFAULT_FILTERS, [conversation(1, 30, { label_ids: [6, 5] })]);
    const open: Bundle = {
      conversation: conversation(1, 30, { label_ids: [6, 5] }),
      contact: null,
      orders: [],
      deals: [],
      notes: [],
      draft: null,
      messages: { items: [], history: [], next_cursor: null },
    };
    qc.setQueryData(keys.bundle(1), open);
    applyFrame(qc, { type: "label.deleted", seq: 3, data: { id: 5 } }, 9);
    expect(qc.getQueryData<{ items: Label[] }>(keys.labels)?.items.map((l) => l.id)).toEqual([6]);
    expect(flatten(qc.getQueryData<Pages<Conversation>>(keys.list(DEFAULT_FILTERS)))[0]?.label_ids).toEqual([6]);
    expect(qc.getQueryData<Bundle>(keys.bundle(1))?.conversation.label_ids).toEqual([6]);
    expect(qc.getQueryData<Counts>(keys.counts)?.labels).toEqual({ "6": 1 });
  });
});

describe("saved views", () => {
  const view = (id: number, name: string, filters: SavedView["filters"], shared = false): SavedView => ({
    id,
    name,
    shared,
    filters,
    updated_at: "2026-12-03T10:00:00Z",
  });
  const waitingLabel = view(1, "VIP waiting", { label: [5], waiting: true }, true);
  const mineLong = view(2, "Mine, over 4 h", { assignee: "me", waiting: true, waiting_hours: 4 });
  const counts = () => qc0.getQueryData<ViewList>(keys.views)?.counts;
  let qc0 = new QueryClient();
  const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();

  it("count a conversation in or out of each view as another manager labels, answers or takes it", () => {
    qc0 = new QueryClient();
    qc0.setQueryData<ViewList>(keys.views, { items: [waitingLabel, mineLong], counts: { "1": 0, "2": 0 }, changes_at: null });
    const waited = conversation(1, 0, { last_message_at: hoursAgo(5), waiting_since: hoursAgo(5) });
    withList(qc0, DEFAULT_FILTERS, [waited]);
    applyFrame(qc0, { type: "conversation.updated", seq: 1, data: { ...waited, version: 2, label_ids: [5] } }, 9);
    expect(counts()).toEqual({ "1": 1, "2": 0 });
    applyFrame(qc0, { type: "conversation.updated", seq: 2, data: { ...waited, version: 3, label_ids: [5], assignee_id: 9 } }, 9);
    expect(counts()).toEqual({ "1": 1, "2": 1 });
    // Answered: waiting no more, in neither view.
    const answered = { ...waited, version: 4, label_ids: [5], assignee_id: 9, waiting_since: null };
    applyFrame(qc0, { type: "conversation.updated", seq: 3, data: answered }, 9);
    expect(counts()).toEqual({ "1": 0, "2": 0 });
    // The customer writes again: waiting, but not yet for 4 hours.
    const now = new Date().toISOString();
    applyFrame(qc0, { type: "conversation.updated", seq: 4, data: { ...answered, version: 5, last_message_at: now, waiting_since: now } }, 9);
    expect(counts()).toEqual({ "1": 1, "2": 0 });
    // Hidden from this manager: out of every view.
    applyFrame(qc0, { type: "conversation.hidden", seq: 5, data: { id: 1 } }, 9);
    expect(counts()).toEqual({ "1": 0, "2": 0 });
  });

  it("keep the views in the server's order; a view new here or with new filters asks for its count", () => {
    qc0 = new QueryClient();
    qc0.setQueryData<ViewList>(keys.views, { items: [mineLong], counts: { "2": 3 }, changes_at: null });
    const added = applyFrame(qc0, { type: "view.updated", seq: 1, data: waitingLabel }, 9);
    expect(added.viewsStale).toBe(true);
    const renamed = applyFrame(qc0, { type: "view.updated", seq: 2, data: { ...mineLong, name: "Aaa" } }, 9);
    expect(renamed.viewsStale).toBe(false);
    expect(qc0.getQueryData<ViewList>(keys.views)?.items.map((v) => v.name)).toEqual(["VIP waiting", "Aaa"]);
    const refiltered = applyFrame(qc0, { type: "view.updated", seq: 3, data: { ...mineLong, filters: { unread: true } } }, 9);
    expect(refiltered.viewsStale).toBe(true);
    applyFrame(qc0, { type: "view.deleted", seq: 4, data: { id: 2 } }, 9);
    expect(qc0.getQueryData<ViewList>(keys.views)).toEqual({ items: [waitingLabel], counts: {}, changes_at: null });
  });

  it("open as the list of their filters and compare with the list's", () => {
    const f = filtersOfView(mineLong);
    expect(f).toEqual({ ...DEFAULT_FILTERS, status: null, tab: "mine", waiting: true, waitingHours: 4, view: 2 });
    expect(listQuery(f, null)).toBe("assignee=me&waiting=true&waiting_hours=4");
    expect(sameFilters(f, { ...f, view: null, q: "ana" })).toBe(true);
    expect(sameFilters(f, { ...f, waitingHours: 24 })).toBe(false);
    expect(filtersOfView(view(3, "Olga's", { assignee: "12" }))).toMatchObject({ tab: "all", assignee: 12 });
  });
});

describe("resync", () => {
  it("is asked for by the frame, and keeps only the first page of each list", async () => {
    const qc = new QueryClient();
    qc.setQueryData<Pages<Conversation>>(keys.list(DEFAULT_FILTERS), {
      pages: [
        { items: [conversation(1, 3)], next_cursor: "a" },
        { items: [conversation(2, 2)], next_cursor: null },
      ],
      pageParams: [null, "a"],
    });
    expect(applyFrame(qc, { type: "resync", seq: 10, data: null }, 9).resync).toBe(true);
    await resync(qc);
    expect(qc.getQueryData<Pages<Conversation>>(keys.list(DEFAULT_FILTERS))?.pages).toHaveLength(1);
    expect(qc.getQueryState(keys.list(DEFAULT_FILTERS))?.isInvalidated).toBe(true);
  });
});

describe("messages in time", () => {
  // As the server writes them: six fractional digits, none when they are all zero.
  const at = (s: string) => `2026-01-01T10:00:${s}Z`;

  it("order within one second however many fractional digits are written", () => {
    const qc = new QueryClient();
    withThread(qc, [[message(1, { created_at: at("05.200000") })]]);
    applyFrame(qc, { type: "message.created", seq: 1, data: message(2, { created_at: at("05") }) }, 9);
    applyFrame(qc, { type: "message.created", seq: 2, data: message(3, { created_at: at("05.000001") }) }, 9);
    applyFrame(qc, { type: "message.created", seq: 3, data: message(4, { created_at: at("05.200001") }) }, 9);
    expect(thread(qc).map((m) => m.id)).toEqual([2, 3, 1, 4]);
  });

  it("an update of a message that is not loaded changes nothing (it is not shown on some day)", () => {
    const qc = new QueryClient();
    withThread(
      qc,
      [
        [message(30), message(31)],
        [message(20), message(21)],
      ],
      true,
    ); // and older pages
    applyFrame(qc, { type: "message.updated", seq: 1, data: message(2, { body: "edited long ago" }) }, 9);
    expect(thread(qc).map((m) => m.id)).toEqual([20, 21, 30, 31]);
  });

  it("a new message goes into the page of its time, and one older than all that is loaded waits for its page", () => {
    const qc = new QueryClient();
    withThread(
      qc,
      [
        [message(30), message(40)],
        [message(20), message(25)],
      ],
      true,
    );
    const backfilled = message(99, { created_at: message(22).created_at }); // history, between pages' times
    applyFrame(qc, { type: "message.created", seq: 1, data: backfilled }, 9);
    const pages = qc.getQueryData<Pages<Message>>(keys.thread(1))!.pages;
    expect(pages[1]!.items.map((m) => m.id)).toEqual([20, 99, 25]);
    expect(pages[0]!.items.map((m) => m.id)).toEqual([30, 40]);
    applyFrame(qc, { type: "message.created", seq: 2, data: message(98, { created_at: message(3).created_at }) }, 9);
    expect(thread(qc).map((m) => m.id)).not.toContain(98);
  });
});

describe("conversation versions", () => {
  it("an older copy arriving last (a read's answer after a resolve's) puts nothing back", () => {
    const qc = new QueryClient();
    qc.setQueryData(keys.counts, { mine: 0, unassigned: 1, all_open: 1, unread: 0 });
    withList(qc, DEFAULT_FILTERS, [conversation(1, 30, { version: 2 })]);
    applyFrame(qc, { type: "conversation.updated", seq: 1, data: conversation(1, 30, { version: 4, status: "resolved" }) }, 9);
    expect(list(qc, DEFAULT_FILTERS)).toEqual([]);
    applyFrame(qc, { type: "conversation.updated", seq: 2, data: conversation(1, 30, { version: 3, status: "open" }) }, 9);
    expect(list(qc, DEFAULT_FILTERS)).toEqual([]);
    expect(qc.getQueryData(keys.counts)).toMatchObject({ all_open: 0 });
  });
});
