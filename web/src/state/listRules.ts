// Which conversations a list holds, in which order, and what one adds to the counts: the
// browser's copy of the server's rules (store/conversations.py), both following the cases of
// test/list-cases.json (listRules.test.ts, tests/test_list_rules.py).

import type { ListFilters } from "../api/client";
import type { Conversation, Counts } from "../api/types";
import { timeKey } from "../format";

/** Whether a conversation belongs in a list with these filters (search aside). */
export function matches(f: ListFilters, c: Conversation, me: number | null): boolean {
  if (f.tab === "mine" && c.assignee_id !== me) return false;
  if (f.tab === "unassigned" && c.assignee_id !== null) return false;
  if (f.tab === "all" && f.assignee !== null && c.assignee_id !== f.assignee) return false;
  if (f.status && c.status !== f.status) return false;
  if (f.platform && c.platform !== f.platform) return false;
  if (f.number && c.number?.login_id !== f.number) return false;
  if (f.unread && c.unread_count === 0) return false;
  if (f.owner !== null) {
    const owner = c.contact?.owner_id ?? null;
    if (f.owner === "none" ? owner !== null : owner !== (f.owner === "me" ? me : Number(f.owner))) return false;
  }
  if (f.waiting || f.waitingHours !== null) {
    // The server says since when the customer has been waiting; the hours are counted here,
    // as the server counts them from its clock when the list loads.
    if (c.waiting_since === null) return false;
    if (f.waitingHours !== null && timeKey(c.waiting_since) >= Date.now() * 1000 - f.waitingHours * 3_600_000_000) return false;
  }
  if (f.labels.length > 0) {
    const has = (id: number): boolean => c.label_ids.includes(id);
    if (f.labelMatch === "all" ? !f.labels.every(has) : !f.labels.some(has)) return false;
  }
  if (c.merged_into != null) return false; // its messages are in the conversation it points at
  return c.is_archived === f.archived;
}

/** The list's order: newest activity first, conversations without messages last. */
export function before(a: Conversation, b: Conversation): boolean {
  if (a.last_message_at !== b.last_message_at) {
    if (a.last_message_at === null) return false;
    if (b.last_message_at === null) return true;
    return timeKey(a.last_message_at) > timeKey(b.last_message_at);
  }
  return a.id > b.id;
}

/** What one conversation adds to the tab counts (the server counts the same: see test/list-cases.json). */
export function countsOf(c: Conversation | undefined, me: number | null): Counts {
  const listed = !!c && !c.is_archived && c.merged_into == null;
  const open = listed && c.status === "open";
  const labels: Record<string, number> = {};
  if (open) for (const id of c.label_ids) labels[id] = 1;
  return {
    mine: open && c.assignee_id === me ? 1 : 0,
    unassigned: open && c.assignee_id === null ? 1 : 0,
    all_open: open ? 1 : 0,
    unread: listed && c.unread_count > 0 ? 1 : 0,
    labels,
  };
}

/** Per-label counts added up (a label on none left out, as the server leaves it out). */
export function addLabelCounts(
  base: Record<string, number>,
  plus: Record<string, number>,
  minus: Record<string, number> = {},
): Record<string, number> {
  const sum = { ...base };
  for (const [id, n] of Object.entries(plus)) sum[id] = (sum[id] ?? 0) + n;
  for (const [id, n] of Object.entries(minus)) sum[id] = (sum[id] ?? 0) - n;
  for (const id of Object.keys(sum)) if (sum[id]! <= 0) delete sum[id];
  return sum;
}
