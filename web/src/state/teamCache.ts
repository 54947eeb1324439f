// The team's labels and saved views in the cache: from the API's answers and the live frames.

import type { QueryClient } from "@tanstack/react-query";

import type * as S from "../api/schema";
import type { Bundle, ContactDetail, ContactRow, Conversation, Counts, Label, SavedView, ViewList } from "../api/types";
import { keys, type Pages } from "./keys";
import { matches } from "./listRules";
import { byName, filtersOfView, inOrder, sameFilters } from "./views";

type LabelList = S.LabelList;

// --- labels -----------------------------------------------------------------------------------

/** A label added or changed: the team's list holds it, by name as the server orders it. */
export function putLabel(qc: QueryClient, label: Label): void {
  qc.setQueryData<LabelList>(keys.labels, (list) => {
    if (!list) return list;
    const items = [...list.items.filter((l) => l.id !== label.id), label];
    return { ...list, items: items.sort((a, b) => byName.compare(a.name, b.name) || a.id - b.id) };
  });
}

/**
 * A label deleted: gone from the list, from every conversation and contact the cache holds and
 * from the counts, as the server took it off every row in the same transaction (one frame says
 * so, however many conversations had it).
 */
export function dropLabel(qc: QueryClient, id: number): void {
  qc.setQueryData<LabelList>(keys.labels, (list) => (list ? { ...list, items: list.items.filter((l) => l.id !== id) } : list));
  const strip = <T extends { label_ids: number[] }>(x: T): T =>
    x.label_ids.includes(id) ? { ...x, label_ids: x.label_ids.filter((l) => l !== id) } : x;
  for (const [key, data] of qc.getQueriesData<Pages<Conversation>>({ queryKey: keys.lists })) {
    if (data) qc.setQueryData(key, { ...data, pages: data.pages.map((p) => ({ ...p, items: p.items.map(strip) })) });
  }
  for (const [key, data] of qc.getQueriesData<Bundle>({ queryKey: ["bundle"] })) {
    if (data) qc.setQueryData(key, { ...data, conversation: strip(data.conversation) });
  }
  for (const [key, data] of qc.getQueriesData<Pages<ContactRow>>({ queryKey: keys.contactLists })) {
    if (data) qc.setQueryData(key, { ...data, pages: data.pages.map((p) => ({ ...p, items: p.items.map(strip) })) });
  }
  for (const [key, data] of qc.getQueriesData<ContactDetail>({ queryKey: ["contact"] })) {
    if (data) qc.setQueryData(key, strip(data));
  }
  qc.setQueryData<Counts>(keys.counts, (counts) => {
    if (!counts) return counts;
    const labels = { ...counts.labels };
    delete labels[id];
    return { ...counts, labels };
  });
}

// --- saved views ------------------------------------------------------------------------------

/**
 * A view saved here (with its count from the answer) or told of by a frame: in the list, in the
 * server's order. True when its count is not known here (a view new to this page, or one whose
 * filters changed): the caller asks the server for the views' counts.
 */
export function putView(qc: QueryClient, view: SavedView, count?: number, changesAt?: string | null): boolean {
  let stale = false;
  qc.setQueryData<ViewList>(keys.views, (list) => {
    if (!list) return list;
    const known = list.items.find((v) => v.id === view.id);
    const counts = { ...list.counts };
    let changes_at = list.changes_at;
    if (count !== undefined) {
      counts[view.id] = count;
      if (changesAt && (!changes_at || changesAt < changes_at)) changes_at = changesAt;
    } else if (!known || !sameFilters(filtersOfView(known), filtersOfView(view))) {
      stale = true;
    }
    return { items: inOrder([...list.items.filter((v) => v.id !== view.id), view]), counts, changes_at };
  });
  return stale;
}

export function dropView(qc: QueryClient, id: number): void {
  qc.setQueryData<ViewList>(keys.views, (list) => {
    if (!list) return list;
    const counts = { ...list.counts };
    delete counts[id];
    return { ...list, items: list.items.filter((v) => v.id !== id), counts };
  });
}

/** A contact's labels as the server answered: its page and the Contacts page's rows. */
export function setContactLabels(qc: QueryClient, contactId: number, labelIds: number[]): void {
  qc.setQueryData<ContactDetail>(keys.contact(contactId), (c) => (c ? { ...c, label_ids: labelIds } : c));
  for (const [key, data] of qc.getQueriesData<Pages<ContactRow>>({ queryKey: keys.contactLists })) {
    if (!data) continue;
    const pages = data.pages.map((p) => ({ ...p, items: p.items.map((r) => (r.id === contactId ? { ...r, label_ids: labelIds } : r)) }));
    qc.setQueryData(key, { ...data, pages });
  }
}

/** Each saved view's count after a conversation changed, by the same rule as its list. */
export function updateViewCounts(qc: QueryClient, before: Conversation | undefined, after: Conversation | undefined, me: number | null): void {
  qc.setQueryData<ViewList>(keys.views, (views) => {
    if (!views) return views;
    const counts = { ...views.counts };
    for (const v of views.items) {
      const f = filtersOfView(v);
      const delta = Number(!!after && matches(f, after, me)) - Number(!!before && matches(f, before, me));
      if (delta !== 0) counts[v.id] = Math.max(0, (counts[v.id] ?? 0) + delta);
    }
    return { ...views, counts };
  });
}
