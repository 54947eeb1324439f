import { useQueryClient } from "@tanstack/react-query";
import { type RefObject, useCallback, useEffect, useMemo, useRef, useState } from "react";

import type { ListFilters } from "../api/client";
import type { Manager } from "../api/types";
import { flatten } from "../state/cache";
import { DEFAULT_FILTERS } from "../state/filters";
import { prefetchThread, useConversations } from "../state/hooks";
import { sameFilters } from "../state/views";
import { t } from "../strings";
import { inInput } from "../state/useShortcuts";
import { BulkBar, capped } from "./BulkBar";
import { authorOf, Picked } from "./ConversationRow";
import { InfiniteRows, RowsLoading } from "./InfiniteRows";
import { ListFilterBar } from "./ListFilterBar";
import { NewChat } from "./NewChat";
import { useSeveralNumbers } from "./NumberBadge";

const NO_WORDS: readonly string[] = [];

interface Props {
  filters: ListFilters;
  setFilters: (f: ListFilters) => void;
  selected: number | null;
  /** Open a conversation; from a search hit, at the message that matched. */
  select: (id: number, message?: number) => void;
  me: Manager;
  searchRef: RefObject<HTMLInputElement | null>;
}

/** The conversations, newest first, in a virtualised list that loads its next page as it ends. */
export function ConversationList({ filters, setFilters, selected, select, searchRef, me }: Props) {
  const list = useConversations(filters);
  const rows = useMemo(() => flatten(list.data), [list.data]);
  const words = list.data?.pages[0]?.words ?? NO_WORDS;
  const several = useSeveralNumbers();
  const qc = useQueryClient();
  const prefetch = useCallback((id: number) => prefetchThread(qc, id), [qc]);
  const [query, setQuery] = useState(filters.q);
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
  // `x` ticks the open conversation, as in a mail client.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key.toLowerCase() !== "x" || e.ctrlKey || e.metaKey || e.altKey || inInput(e.target) || selected === null) return;
      e.preventDefault();
      pick(selected, e.shiftKey);
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [pick, selected]);

  // The search runs a moment after typing stops, not on every key.
  useEffect(() => {
    if (query === filters.q) return;
    const timer = setTimeout(() => setFilters({ ...filters, q: query }), 250);
    return () => clearTimeout(timer);
  }, [query, filters, setFilters]);

  const filtered = !sameFilters(filters, { ...DEFAULT_FILTERS, tab: filters.tab }) || filters.archived || filters.q;
  return (
    <nav className="list" aria-label="Conversations">
      <ListFilterBar filters={filters} setFilters={setFilters} query={query} setQuery={setQuery} searchRef={searchRef} me={me}>
        <NewChat select={select} me={me} />
      </ListFilterBar>
      {inList.size > 0 && <BulkBar picked={inList} rows={rows} setPicked={setPicked} me={me} archived={filters.archived} />}
      {list.isPending ? (
        <RowsLoading />
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
                  setFilters({ ...DEFAULT_FILTERS, tab: filters.tab, view: null });
                }}
              >
                {t.filters.clear}
              </button>
            </>
          )}
        </p>
      ) : (
        <InfiniteRows
          rows={rows}
          pages={list}
          row={(c) => (
            <Picked
              conversation={c}
              picked={inList.has(c.id)}
              picking={inList.size > 0}
              onPick={pick}
              active={c.id === selected}
              onOpen={select}
              onHover={prefetch}
              assignee={c.assignee_name ?? undefined}
              // In a search, the message that matched stands where the last message would.
              author={authorOf(c.match ?? c.last_message, me.id)}
              words={words}
              numbers={several}
            />
          )}
        />
      )}
    </nav>
  );
}
