import type { ListFilters } from "../api/client";

// The conversations that need work: the open ones, which is what the tabs count. Pending,
// snoozed and resolved ones are one choice away in the status filter.
export const DEFAULT_FILTERS: ListFilters = {
  tab: "all",
  status: "open",
  platform: null,
  number: null,
  labels: [],
  labelMatch: "any",
  unread: false,
  assignee: null,
  owner: null,
  waiting: false,
  waitingHours: null,
  archived: false,
  q: "",
};
