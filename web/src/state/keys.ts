// The cache's keys (TanStack Query), and the shapes of its paged lists.

import type { InfiniteData } from "@tanstack/react-query";

import type { BoardFilters, ContactFilters, ListFilters } from "../api/client";
import type { MessagePage, Page } from "../api/types";

export type Pages<T> = InfiniteData<Page<T>, string | null>;
/** A thread's pages, newest first: each with its messages and the changes of its time. */
export type ThreadPages = InfiniteData<MessagePage, string | null>;

export const keys = {
  lists: ["conversations"] as const,
  list: (f: ListFilters) => ["conversations", f] as const,
  counts: ["counts"] as const,
  bundle: (id: number) => ["bundle", id] as const,
  thread: (id: number) => ["thread", id] as const,
  contactLists: ["contacts"] as const,
  contacts: (f: ContactFilters) => ["contacts", f] as const,
  contact: (id: number) => ["contact", id] as const,
  duplicates: (id: number) => ["duplicates", id] as const,
  attributes: ["contact-attributes"] as const,
  quickReplies: ["quick-replies"] as const,
  labels: ["labels"] as const,
  views: ["views"] as const,
  pipelines: ["pipelines"] as const,
  boards: ["board"] as const,
  board: (pipelineId: number, f: BoardFilters) => ["board", pipelineId, f] as const,
  deal: (id: number) => ["deal", id] as const,
  team: ["team"] as const,
  numbers: ["numbers"] as const,
  me: ["me"] as const,
};
