// Bringing a message into view (a search hit, a quoted message): older pages are loaded until
// it is there (at most JUMP_PAGES), then it is scrolled to the middle and marked for a moment.

import { useCallback, useEffect, useRef, useState, type RefObject } from "react";
import type { ListHandle } from "../components/MessageList";

import type { Row } from "./threadRows";

// More than the search looks back (MATCH_DEPTH messages on the server).
const JUMP_PAGES = 25;
const FLASH_MS = 2_000;

/** What of the thread's query a jump needs: its pages and how to load older ones. */
export interface OlderPages {
  loaded: boolean;
  pages: number;
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => Promise<unknown>;
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

export function useJump(
  focus: number | null,
  rows: Row[],
  older: OlderPages,
  list: RefObject<ListHandle | null>,
): { flash: number | null; jumpTo: (id: number) => void } {
  const [wanted, setWanted] = useState<number | null>(focus);
  const [flash, setFlash] = useState<number | null>(null);
  const rowsRef = useRef(rows);
  rowsRef.current = rows;
  // Scroll until the message's row is drawn: the list may still be measuring pages it just
  // got (or get more while it scrolls), so its place is looked up again at every try.
  const reveal = useCallback(
    (id: number) => {
      let tries = 0;
      const attempt = () => {
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
    },
    [list],
  );
  useEffect(() => setWanted(focus), [focus]);
  const { loaded, pages, hasNextPage, isFetchingNextPage, fetchNextPage } = older;
  useEffect(() => {
    if (wanted === null || !loaded) return;
    if (rows.some((r) => r.kind === "message" && r.message.id === wanted)) {
      reveal(wanted);
      setWanted(null);
      return;
    }
    if (hasNextPage && pages < JUMP_PAGES) {
      if (!isFetchingNextPage) void fetchNextPage();
    } else {
      setWanted(null); // not within reach (or gone): the thread stays where it is
    }
  }, [wanted, rows, loaded, pages, hasNextPage, isFetchingNextPage, fetchNextPage, reveal]);
  useEffect(() => {
    if (flash === null) return;
    const timer = setTimeout(() => setFlash(null), FLASH_MS);
    return () => clearTimeout(timer);
  }, [flash]);
  return { flash, jumpTo: setWanted };
}
