// The inbox's copy of which conversations a list holds, in which order, and the tab counts
// (used when a live frame moves a conversation in the cache) follows the same table of cases
// as the server's queries (tests/test_list_rules.py).

import { describe, expect, it } from "vitest";

import { type ListFilters, listQuery } from "../api/client";
import type { Conversation, Status } from "../api/types";
import cases from "../test/list-cases.json";
import { conversation } from "../test/fixtures";
import { addLabelCounts, before, countsOf, matches } from "./listRules";

const ME = 1;
const WHO: Record<string, number> = { me: ME, colleague: 2 };

const conversations: Conversation[] = cases.conversations.map((c) => {
  const at = c.minutes_ago === undefined ? c.last_message_at : new Date(Date.now() - c.minutes_ago * 60_000).toISOString();
  const owner = c.owner === null ? null : (WHO[c.owner] ?? null);
  return conversation(c.id, 0, {
    status: c.status as Status,
    assignee_id: c.assignee === null ? null : (WHO[c.assignee] ?? null),
    platform: c.platform,
    unread_count: c.unread_count,
    is_archived: c.is_archived,
    last_message_at: at,
    waiting_since: at !== null && !c.last_message_out ? at : null,
    contact: { id: c.id, display_name: `Case ${c.id}`, phone: null, email: null, avatar_url: null, owner_id: owner },
    merged_into: c.merged_into,
    label_ids: c.labels,
    number: c.number === null ? null : { login_id: c.number, name: null },
  });
});

describe("the lists and counts the server answers", () => {
  it.each(cases.lists.map((l) => [l.name, l] as const))("%s", (_, l) => {
    const filters = { ...l.filters, assignee: l.filters.assignee === null ? null : WHO[l.filters.assignee] } as ListFilters;
    expect(listQuery(filters, null)).toBe(l.query.replace("colleague", String(WHO.colleague)));
    const held = conversations.filter((c) => matches(filters, c, ME)).sort((a, b) => (before(a, b) ? -1 : 1));
    expect(held.map((c) => c.id)).toEqual(l.ids);
  });

  it("counts the tabs alike", () => {
    const total = { mine: 0, unassigned: 0, all_open: 0, unread: 0, labels: {} as Record<string, number> };
    for (const c of conversations) {
      const one = countsOf(c, ME);
      for (const key of ["mine", "unassigned", "all_open", "unread"] as const) total[key] += one[key];
      total.labels = addLabelCounts(total.labels, one.labels);
    }
    expect(total).toEqual(cases.counts);
  });
});
