import { useQueryClient } from "@tanstack/react-query";
import { type RefObject, useCallback, useEffect, useMemo, useState } from "react";

import type { ListFilters } from "../api/client";
import type { Manager } from "../api/types";
import { flatten } from "../state/cache";
import { DEFAULT_FILTERS } from "../state/filters";
import { prefetchThread, useConversations } from "../state/hooks";
import { sameFilters } from "../state/views";
import { t } from "../strings";
import type { Selection } from "../state/useSelection";
import { BulkBar } from "./BulkBar";
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
  /** The rows ticked for a change to many at once (the inbox's, for its `x` key too). */
  selection: Selection;
}

/** The conversations, newest first, in a virtualised list that loads its next page as it ends. */
export function ConversationList({ filters, setFilters, selected, select, searchRef, me, selection }: Props) {
  const list = useConversations(filters);
  const rows = useMemo(() => flatten(list.data), [list.data]);
  const words = list.data?.pages[0]?.words ?? NO_WORDS;
  const several = useSeveralNumbers();
  const qc = useQueryClient();
  const prefetch = useCallback((id: number) => prefetchThread(qc, id), [qc]);
  const [query, setQuery] = useState(filters.q);
  const { inList, pick, setPicked } = selection;

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
