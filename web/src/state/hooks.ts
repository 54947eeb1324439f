// The queries the screens read. Opening a conversation is one request (the bundle): its first
// page of messages seeds the thread, the rest seeds the side panel.

import { useInfiniteQuery, useQuery, useQueryClient } from "@tanstack/react-query";
import { useSyncExternalStore } from "react";

import { api, ApiError, type ListFilters } from "../api/client";
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

export function useCounts() {
  return useQuery({ queryKey: keys.counts, queryFn: api.counts, staleTime: 30_000 });
}

export function useConversations(filters: ListFilters) {
  return useInfiniteQuery({
    queryKey: keys.list(filters),
    queryFn: ({ pageParam }) => api.conversations(filters, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
    staleTime: Infinity, // kept current by the live connection
  });
}

export function useThread(id: number) {
  const qc = useQueryClient();
  return useInfiniteQuery({
    queryKey: keys.thread(id),
    queryFn: async ({ pageParam }): Promise<MessagePage> => {
      if (pageParam === null) {
        const bundle = await api.bundle(id);
        qc.setQueryData<Bundle>(keys.bundle(id), bundle);
        return bundle.messages;
      }
      return api.messages(id, pageParam);
    },
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_cursor,
    staleTime: Infinity,
  });
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
