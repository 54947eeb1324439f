// Saved views in the inbox: a view's filters as the list's, and back. The server keeps them as
// the list's query (ConversationFilters); the list works with ListFilters.

import { conversationFilters, type ListFilters } from "../api/client";
import type { SavedView } from "../api/types";
import { DEFAULT_FILTERS } from "./filters";

/** The list a view opens: its filters, everything else as the default list has it. */
export function filtersOfView(v: SavedView): ListFilters {
  const f = v.filters;
  const assignee = f.assignee ?? null;
  return {
    ...DEFAULT_FILTERS,
    tab: assignee === "me" ? "mine" : assignee === "none" ? "unassigned" : "all",
    assignee: assignee !== null && /^\d+$/.test(assignee) ? Number(assignee) : null,
    status: f.status ?? null,
    platform: f.platform ?? null,
    number: f.number ?? null,
    labels: f.label ?? [],
    labelMatch: f.label_match ?? "any",
    unread: f.unread ?? false,
    owner: f.owner ?? null,
    waiting: f.waiting ?? false,
    waitingHours: f.waiting_hours ?? null,
    view: v.id,
  };
}

/** Whether two lists narrow alike (search, archive and the view they came from aside). */
export function sameFilters(a: ListFilters, b: ListFilters): boolean {
  return JSON.stringify(conversationFilters(a)) === JSON.stringify(conversationFilters(b));
}

/** Names in the order the server sorts them (lower(name)): labels, views. */
export const byName = new Intl.Collator(undefined, { sensitivity: "base" });

/** The views in the order the server lists them: the team's first, then one's own, by name. */
export function inOrder(views: SavedView[]): SavedView[] {
  return [...views].sort((a, b) => Number(b.shared) - Number(a.shared) || byName.compare(a.name, b.name) || a.id - b.id);
}
