// The queries the screens read. Opening a conversation is one request (the bundle): its first
// page of messages seeds the thread, the rest seeds the side panel.

import { type QueryClient, useInfiniteQuery, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useSyncExternalStore } from "react";

import { api, ApiError, type BoardFilters, type ContactFilters, type ListFilters } from "../api/client";
import type { Bundle, MessagePage } from "../api/types";
import { keys } from "./cache";

function onVisibility(change: () => void): () => void {
  document.addEventListener("visibilitychange", change);
  return () => document.removeEventListener("visibilitychange", change);
}

/** Whether the inbox's tab is the one the manager sees. */
export function usePageVisible(): boolean {
  return useSyncExternalStore(onVisibility, () => !document.hidden);
}

export function useMe() {
  return useQuery({
    queryKey: keys.me,
    queryFn: api.me,
    retry: (count, error) => !(error instanceof ApiError && error.status === 401) && count < 3,
    staleTime: Infinity,
  });
}

export function useTeam() {
  return useQuery({ queryKey: keys.team, queryFn: api.team, staleTime: 60_000 });
}

/** The business's WhatsApp numbers and their names (opening a chat asks which one). */
export function useNumbers(enabled = true) {
  return useQuery({ queryKey: keys.numbers, queryFn: api.numbers, staleTime: 60_000, enabled });
}

export function useCounts() {
  return useQuery({ queryKey: keys.counts, queryFn: api.counts, staleTime: 30_000 });
}

/** The Contacts page: not live (a contact changes seldom while the page is open); read again
 * when the page is opened after a while. */
export function useContacts(filters: ContactFilters) {
  return useInfiniteQuery({
    queryKey: keys.contacts(filters),
    queryFn: ({ pageParam }) => api.contacts(filters, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
    staleTime: 30_000,
  });
}

/** The team's quick replies and the manager's own: read again when the composer's list opens
 * after a while (a colleague's new one is there the next time). */
export function useQuickReplies(enabled = true) {
  return useQuery({ queryKey: keys.quickReplies, queryFn: api.quickReplies, staleTime: 30_000, enabled });
}

/** The team's labels: kept current by the live connection (label.updated, label.deleted). */
/**
 * The saved views and their counts, kept current by the live frames. A view of long waits
 * gains conversations as time passes, which no frame tells: the server says when the next
 * one joins, and the views and those lists load again then.
 */
export function useViews() {
  const qc = useQueryClient();
  const views = useQuery({ queryKey: keys.views, queryFn: api.views, staleTime: Infinity });
  const due = views.data?.changes_at;
  const loaded = views.dataUpdatedAt;
  // Armed again after every load: a browser clock ahead of the server's asks too early, is
  // told the same moment, and waits for it once more (at least a few seconds).
  useEffect(() => {
    if (!due || !loaded) return;
    const wait = Math.min(Math.max(Date.parse(due) - Date.now(), 5_000) + 1000, 86_400_000);
    const timer = setTimeout(() => {
      void qc.invalidateQueries({ queryKey: keys.views });
      void qc.invalidateQueries({ queryKey: keys.lists, predicate: (q) => (q.queryKey[1] as ListFilters | undefined)?.waitingHours != null });
    }, wait);
    return () => clearTimeout(timer);
  }, [due, loaded, qc]);
  return views;
}

export function useLabels() {
  return useQuery({ queryKey: keys.labels, queryFn: api.labels, staleTime: Infinity });
}

/** The attributes a team keeps about contacts (admins change them seldom). */
export function useContactAttributes() {
  return useQuery({ queryKey: keys.attributes, queryFn: api.attributes, staleTime: 60_000 });
}

export function useContact(id: number) {
  return useQuery({ queryKey: keys.contact(id), queryFn: () => api.contact(id), staleTime: 10_000 });
}

export function useConversations(filters: ListFilters) {
  return useInfiniteQuery({
    queryKey: keys.list(filters),
    queryFn: ({ pageParam }) => api.conversations(filters, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
    staleTime: Infinity, // kept current by the live connection
    // Except by time: a list of long waits gains conversations as the hours pass.
    refetchInterval: filters.waitingHours !== null ? 300_000 : false,
  });
}

/** The thread's query: its first page is the conversation's bundle (which seeds the side
 * panel), older pages come one by one. */
function threadQuery(qc: QueryClient, id: number) {
  return {
    queryKey: keys.thread(id),
    queryFn: async ({ pageParam }: { pageParam: string | null }): Promise<MessagePage> => {
      if (pageParam === null) {
        const bundle = await api.bundle(id);
        qc.setQueryData<Bundle>(keys.bundle(id), bundle);
        return bundle.messages;
      }
      return api.messages(id, pageParam);
    },
    initialPageParam: null as string | null,
    getNextPageParam: (last: MessagePage) => last.next_cursor,
    staleTime: Infinity,
  };
}

export function useThread(id: number) {
  const qc = useQueryClient();
  return useInfiniteQuery(threadQuery(qc, id));
}

/**
 * Fetch a conversation's bundle before it is opened (the next and previous rows, a row under
 * the pointer): opening it then paints from the cache. Reading a bundle changes nothing (the
 * conversation is marked read when it is opened); the live connection keeps it current.
 */
export function prefetchThread(qc: QueryClient, id: number): void {
  if (qc.getQueryData(keys.thread(id)) !== undefined) return;
  void qc.prefetchInfiniteQuery(threadQuery(qc, id));
}

/** The bundle of a conversation, filled by useThread's first page (never fetched by itself). */
export function useBundle(id: number) {
  return useQuery({
    queryKey: keys.bundle(id),
    queryFn: () => api.bundle(id),
    enabled: false,
    staleTime: Infinity,
  });
}

/** The pipelines with their stages (admins change them seldom; their frames keep this current). */
export function usePipelines() {
  return useQuery({ queryKey: keys.pipelines, queryFn: api.pipelines, staleTime: Infinity });
}

/** A pipeline's board: each stage's count, total and first cards, in one request. */
export function useBoard(pipelineId: number | null, filters: BoardFilters) {
  return useQuery({
    queryKey: keys.board(pipelineId ?? 0, filters),
    queryFn: () => api.board(pipelineId!, filters),
    enabled: pipelineId !== null,
  });
}
