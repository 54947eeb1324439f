import { QueryClient } from "@tanstack/react-query";
import { describe, expect, it } from "vitest";

import type { Board, Bundle, Deal } from "../api/types";
import { appendCards, applyDeal, placeDeal } from "./dealCache";
import { keys } from "./keys";

const pipeline = {
  id: 1,
  name: "Sales",
  currency: "EUR",
  stages: [
    { id: 10, name: "New", kind: "open" as const },
    { id: 11, name: "Won", kind: "won" as const },
  ],
  lost_reasons: [],
  updated_at: "2026-12-01T00:00:00Z",
};

function deal(id: number, fields: Partial<Deal> = {}): Deal {
  return {
    id,
    version: 2,
    pipeline_id: 1,
    stage_id: 10,
    position: id * 100,
    title: `Deal ${id}`,
    value: "10.50",
    currency: "EUR",
    contact: null,
    owner_id: null,
    owner_name: null,
    expected_close: null,
    status: "open",
    lost_reason_id: null,
    lost_note: null,
    closed_at: null,
    label_ids: [],
    created_at: "2026-12-01T00:00:00Z",
    updated_at: "2026-12-01T00:00:00Z",
    ...fields,
  };
}

function board(newCards: Deal[], more: boolean, count = newCards.length): Board {
  return {
    pipeline,
    columns: [
      { stage_id: 10, count, totals: { EUR: (newCards.length * 10.5).toFixed(2) }, deals: { items: newCards, next_cursor: more ? "c" : null } },
      { stage_id: 11, count: 0, totals: {}, deals: { items: [], next_cursor: null } },
    ],
  };
}

describe("a deal on the board", () => {
  it("moves between columns with their counts and totals", () => {
    const before = board([deal(1), deal(2), deal(3)], false);
    const after = placeDeal(before, 2, deal(2, { stage_id: 11, version: 3, status: "won" }), false);
    expect(after?.columns[0]?.deals.items.map((d) => d.id)).toEqual([1, 3]);
    expect(after?.columns[0]?.count).toBe(2);
    expect(after?.columns[0]?.totals).toEqual({ EUR: "21.00" });
    expect(after?.columns[1]?.deals.items.map((d) => d.id)).toEqual([2]);
    expect(after?.columns[1]?.totals).toEqual({ EUR: "10.50" });
  });

  it("goes in its place by position, and a stale frame changes nothing", () => {
    const before = board([deal(1), deal(3)], false);
    const after = placeDeal(before, 5, deal(5, { position: 150, version: 1 }), false);
    expect(after?.columns[0]?.deals.items.map((d) => d.id)).toEqual([1, 5, 3]);
    expect(after?.columns[0]?.count).toBe(3);
    expect(placeDeal(after!, 5, deal(5, { position: 999, version: 1 }), false)).toBe(after);
  });

  it("past the loaded cards is counted but not shown (its page brings it)", () => {
    const before = board([deal(1), deal(2)], true, 500);
    const after = placeDeal(before, 9, deal(9, { position: 10_000, version: 1 }), false);
    expect(after?.columns[0]?.count).toBe(501);
    expect(after?.columns[0]?.deals.items.map((d) => d.id)).toEqual([1, 2]);
  });

  it("loads again where it cannot tell: a deal never loaded here, or a filtered board's change", () => {
    const before = board([deal(1)], true, 500);
    expect(placeDeal(before, 7, deal(7, { version: 4 }), false)).toBeNull();
    expect(placeDeal(before, 7, null, false)).toBeNull();
    expect(placeDeal(before, 8, deal(8, { version: 1 }), true)).toBeNull();
    expect(placeDeal(before, 1, deal(1, { version: 3, owner_id: 4 }), true)).toBeNull();
    // A move that keeps its owner and labels stays on a filtered board, in place.
    expect(placeDeal(before, 1, deal(1, { version: 3, stage_id: 11 }), true)?.columns[1]?.count).toBe(1);
  });

  it("gone (deleted, or no longer the manager's) leaves its column", () => {
    const after = placeDeal(board([deal(1), deal(2)], false), 1, null, false);
    expect(after?.columns[0]?.deals.items.map((d) => d.id)).toEqual([2]);
    expect(after?.columns[0]?.count).toBe(1);
  });
});

describe("deals in the cache", () => {
  it("follow on every board and in the side panel of their contact's conversations", () => {
    const qc = new QueryClient();
    const filters = { owner: null, label: null };
    qc.setQueryData(keys.board(1, filters), board([deal(1)], false));
    const bundle = { conversation: { id: 5 }, contact: { id: 42 }, deals: [] } as unknown as Bundle;
    qc.setQueryData(keys.bundle(5), bundle);
    const hers = deal(2, { version: 1, contact: { id: 42, display_name: "Rita", phone: null } });
    expect(applyDeal(qc, 2, hers)).toBe(false);
    expect(qc.getQueryData<Board>(keys.board(1, filters))?.columns[0]?.count).toBe(2);
    expect(qc.getQueryData<Bundle>(keys.bundle(5))?.deals.map((d) => d.id)).toEqual([2]);
    // Won: off the side panel (it shows open deals), into the Won column.
    applyDeal(qc, 2, { ...hers, version: 2, stage_id: 11, status: "won" });
    expect(qc.getQueryData<Bundle>(keys.bundle(5))?.deals).toEqual([]);
    expect(qc.getQueryData<Board>(keys.board(1, filters))?.columns[1]?.count).toBe(1);
  });

  it("a column's next page is added after its cards, each once", () => {
    const qc = new QueryClient();
    const key = keys.board(1, { owner: null, label: null });
    qc.setQueryData(key, board([deal(1), deal(2)], true, 3));
    appendCards(qc, key, 10, { items: [deal(2), deal(3)], next_cursor: null });
    const column = qc.getQueryData<Board>(key)?.columns[0];
    expect(column?.deals.items.map((d) => d.id)).toEqual([1, 2, 3]);
    expect(column?.deals.next_cursor).toBeNull();
  });
});
