// Deals and pipelines in the cache: a deal's answer or frame put in its place on every board the
// page holds (its column's count and total moved along) and in the side panels of its
// contact's conversations; the pipelines' list from their frames.

import type { QueryClient } from "@tanstack/react-query";

import type * as S from "../api/schema";
import type { Board, Bundle, Deal, Pipeline } from "../api/types";
import { keys } from "./keys";

/** Board order: the server's positions, smaller higher (ties by id). */
export function boardOrder(a: Deal, b: Deal): number {
  return a.position - b.position || a.id - b.id;
}

const cents = (value: string | undefined): number => Math.round(Number(value ?? 0) * 100);
const decimal = (c: number): string => (c / 100).toFixed(2);

function addTotal(totals: Record<string, string>, deal: Deal, sign: 1 | -1): Record<string, string> {
  const next = { ...totals };
  const c = cents(next[deal.currency]) + sign * cents(deal.value);
  next[deal.currency] = decimal(c);
  return next;
}

function sameMembership(a: Deal, b: Deal): boolean {
  return a.owner_id === b.owner_id && a.label_ids.length === b.label_ids.length && a.label_ids.every((l, i) => l === b.label_ids[i]);
}

/**
 * The board with `deal` where it is now (null: gone, or no longer the manager's to see), or
 * null when the board cannot follow in place and loads again: the deal was not among the
 * cards loaded here (so where it was is not known), or the board is filtered and the change
 * may take the deal in or out of it (the server decides that, not the browser).
 */
export function placeDeal(board: Board, id: number, deal: Deal | null, filtered: boolean): Board | null {
  let old: Deal | undefined;
  for (const column of board.columns) {
    old = column.deals.items.find((d) => d.id === id);
    if (old) break;
  }
  if (old && deal && old.version >= deal.version) return board; // stale, or applied already
  if (deal && deal.pipeline_id !== board.pipeline.id && !old) return board;
  const onBoard = deal && deal.pipeline_id === board.pipeline.id ? deal : null;
  if (!old) {
    // Gone, and never loaded here: only a board with cards still to load may have counted it.
    if (!deal) return board.columns.some((c) => c.deals.next_cursor !== null) ? null : board;
    // Unknown here: a new deal (its first version) on an unfiltered board is counted in;
    // anything else moved from a place this page never loaded.
    if (onBoard?.version !== 1 || filtered) return null;
  } else if (filtered && onBoard && !sameMembership(old, onBoard)) {
    return null;
  }
  const columns = board.columns.map((column) => {
    let { count, totals } = column;
    let items = column.deals.items;
    if (old && old.stage_id === column.stage_id) {
      items = items.filter((d) => d.id !== id);
      count -= 1;
      totals = addTotal(totals, old, -1);
    }
    if (onBoard && onBoard.stage_id === column.stage_id) {
      count += 1;
      totals = addTotal(totals, onBoard, 1);
      const last = items[items.length - 1];
      // Kept among the loaded cards if it falls within them; else its page brings it.
      if (column.deals.next_cursor === null || (last && boardOrder(onBoard, last) < 0)) {
        items = [...items, onBoard].sort(boardOrder);
      }
    }
    if (items === column.deals.items && count === column.count) return column;
    return { ...column, count, totals, deals: { ...column.deals, items } };
  });
  return { ...board, columns };
}

// The newest version of each deal this page was told of: a frame older than it (a move's answer
// came first) is stale wherever the deal is no longer shown to compare with.
const newest = new WeakMap<QueryClient, Map<number, number>>();

/** Put a deal (or its absence) on every board held; true if one of them must load again. */
export function applyDeal(qc: QueryClient, id: number, deal: Deal | null): boolean {
  let stale = false;
  const versions = newest.get(qc) ?? new Map<number, number>();
  newest.set(qc, versions);
  if (deal) {
    if ((versions.get(id) ?? 0) > deal.version) return false;
    versions.set(id, deal.version);
  }
  for (const [key, board] of qc.getQueriesData<Board>({ queryKey: keys.boards })) {
    if (!board) continue;
    const filters = key[2] as { owner: string | null; label: number | null } | undefined;
    const placed = placeDeal(board, id, deal, Boolean(filters?.owner || filters?.label));
    if (placed === null) {
      stale = true;
      void qc.invalidateQueries({ queryKey: key, exact: true });
    } else if (placed !== board) {
      qc.setQueryData(key, placed);
    }
  }
  for (const [key, bundle] of qc.getQueriesData<Bundle>({ queryKey: ["bundle"] })) {
    if (!bundle) continue;
    const others = bundle.deals.filter((d) => d.id !== id);
    const known = bundle.deals.find((d) => d.id === id);
    if (known && deal && known.version >= deal.version) continue;
    const shown = deal && deal.status === "open" && deal.contact !== null && deal.contact.id === bundle.contact?.id;
    const deals = shown ? [deal, ...others].sort((a, b) => b.id - a.id) : others;
    if (shown || known) qc.setQueryData(key, { ...bundle, deals });
  }
  qc.setQueryData<S.DealDetailOut>(keys.deal(id), (detail) => (detail && deal && detail.deal.version < deal.version ? { ...detail, deal } : detail));
  return stale;
}

/** A column's next page, after the cards it holds (each once). */
export function appendCards(qc: QueryClient, key: readonly unknown[], stageId: number, page: S.DealPage): void {
  qc.setQueryData<Board>(key, (board) =>
    board
      ? {
          ...board,
          columns: board.columns.map((c) => {
            if (c.stage_id !== stageId) return c;
            const seen = new Set(c.deals.items.map((d) => d.id));
            return { ...c, deals: { items: [...c.deals.items, ...page.items.filter((d) => !seen.has(d.id))], next_cursor: page.next_cursor } };
          }),
        }
      : board,
  );
}

/** A pipeline added or changed: in the list by name; its boards load again (their stages). */
export function putPipeline(qc: QueryClient, pipeline: Pipeline): void {
  qc.setQueryData<S.PipelineList>(keys.pipelines, (list) =>
    list
      ? { items: [...list.items.filter((p) => p.id !== pipeline.id), pipeline].sort((a, b) => a.name.localeCompare(b.name) || a.id - b.id) }
      : list,
  );
  void qc.invalidateQueries({ queryKey: [...keys.boards, pipeline.id] });
}

export function dropPipeline(qc: QueryClient, id: number): void {
  qc.setQueryData<S.PipelineList>(keys.pipelines, (list) => (list ? { items: list.items.filter((p) => p.id !== id) } : list));
  qc.removeQueries({ queryKey: [...keys.boards, id] });
}
