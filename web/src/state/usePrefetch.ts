// The conversations a manager is about to open are fetched ahead: the next and the previous row
// of the list around the open one (what j and k open), so a switch paints from the cache. The
// requests wait until the opened thread has been drawn: their answers are read on the same
// thread as the drawing.

import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";

import type { ListFilters } from "../api/client";
import type { Conversation } from "../api/types";
import { flatten, keys, type Pages } from "./cache";
import { prefetchThread } from "./hooks";

export function usePrefetchNeighbours(filters: ListFilters, selected: number | null): void {
  const qc = useQueryClient();
  useEffect(() => {
    // After the next frame is painted (two animation frames on): the open thread first.
    let frame = requestAnimationFrame(() => {
      frame = requestAnimationFrame(() => {
        const rows = flatten(qc.getQueryData<Pages<Conversation>>(keys.list(filters)));
        const at = rows.findIndex((c) => c.id === selected);
        for (const row of at < 0 ? rows.slice(0, 1) : [rows[at + 1], rows[at - 1]]) {
          if (row) prefetchThread(qc, row.id);
        }
      });
    });
    return () => cancelAnimationFrame(frame);
  }, [qc, filters, selected]);
}
