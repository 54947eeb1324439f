// The conversations a manager ticked in the list, for a change to many at once: by a click on
// a row's checkbox, Shift+click for the rows between, `x` for the open one (useShortcuts).

import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import type { ListFilters } from "../api/client";
import { flatten } from "./cache";
import { useConversations } from "./hooks";

/** How many conversations one change takes at most (api/bulk.py BULK_LIMIT; the contract's
 * maxItems of BulkBody.ids, which a test compares with this). */
export const BULK_LIMIT = 200;

/** A selection within what one change takes: the first BULK_LIMIT of it. */
export function capped(ids: Set<number>): Set<number> {
  return ids.size <= BULK_LIMIT ? ids : new Set([...ids].slice(0, BULK_LIMIT));
}

export interface Selection {
  /** The ticked rows still in the list. */
  inList: ReadonlySet<number>;
  /** Tick or untick a row; with `range`, tick every row from the last one ticked to it. */
  pick: (id: number, range: boolean) => void;
  setPicked: (ids: Set<number>) => void;
}

/** The selection of the list with these filters (its rows are the list's cached query). */
export function useSelection(filters: ListFilters): Selection {
  const list = useConversations(filters);
  const rows = useMemo(() => flatten(list.data), [list.data]);
  const [picked, setPicked] = useState<Set<number>>(() => new Set());
  // The row a Shift+click selects from: the last one ticked or unticked.
  const anchor = useRef<number | null>(null);
  // Another list is another selection.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the filters are the trigger
  useEffect(() => {
    setPicked(new Set());
    anchor.current = null;
  }, [filters]);
  // Only what is still in the list counts: a row that left it live (a colleague took it) is
  // no longer one the manager chose from this list.
  const inList = useMemo(() => {
    const here = new Set(rows.map((c) => c.id));
    return new Set([...picked].filter((id) => here.has(id)));
  }, [picked, rows]);
  const pick = useCallback(
    (id: number, range: boolean) =>
      setPicked((before) => {
        const next = new Set(before);
        const on = !before.has(id);
        const from = rows.findIndex((c) => c.id === anchor.current);
        const to = rows.findIndex((c) => c.id === id);
        if (range && from >= 0 && to >= 0) {
          for (const c of rows.slice(Math.min(from, to), Math.max(from, to) + 1)) next.add(c.id);
        } else if (on) next.add(id);
        else next.delete(id);
        anchor.current = id;
        return capped(next);
      }),
    [rows],
  );
  return { inList, pick, setPicked };
}
