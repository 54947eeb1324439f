// The list's labels, saved views and bulk changes as components: what they show and what a
// click asks for.

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import type { ReactNode } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";

import contract from "../../openapi.json";
import type { ListFilters } from "../api/client";
import type { Manager, SavedView } from "../api/types";
import { keys } from "../state/cache";
import { DEFAULT_FILTERS } from "../state/filters";
import { BULK_LIMIT, capped } from "../state/useSelection";
import { conversation } from "../test/fixtures";
import { Row } from "./ConversationRow";
import { ListFilterBar } from "./ListFilterBar";
import { ViewBar } from "./ViewBar";

const me: Manager = { id: 9, email: "me@example.com", name: "Me", role: "manager" };

function wrap(qc: QueryClient, node: ReactNode) {
  return render(<QueryClientProvider client={qc}>{node}</QueryClientProvider>);
}

afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

describe("Labels", () => {
  const labels = (qc: QueryClient) =>
    qc.setQueryData(keys.labels, {
      items: [
        { id: 5, name: "VIP", colour: "#c62828", created_at: "2026-12-01T10:00:00Z" },
        { id: 6, name: "Wholesale", colour: "#1565c0", created_at: "2026-12-01T10:00:00Z" },
        { id: 7, name: "Complaint", colour: "#ef6c00", created_at: "2026-12-01T10:00:00Z" },
      ],
    });

  it("show on a row in the team list's order, the rest as a count, one unknown here left out", () => {
    const qc = new QueryClient();
    labels(qc);
    const labelled = conversation(3, 5, { title: "Ben", label_ids: [7, 99, 6, 5] });
    wrap(qc, <Row conversation={labelled} active={false} onOpen={() => {}} assignee={undefined} />);
    const chips = [...screen.getByRole("button").querySelectorAll(".label-chip")].map((c) => c.textContent);
    expect(chips).toEqual(["VIP", "Wholesale", "+1"]);
  });

  it("filter the list by any or all of them, and drop one an admin removed", () => {
    const qc = new QueryClient();
    labels(qc);
    qc.setQueryData(keys.counts, { mine: 0, unassigned: 0, all_open: 3, unread: 0, labels: { "5": 2 } });
    const setFilters = vi.fn();
    const filters = { ...DEFAULT_FILTERS, labels: [5, 42] };
    wrap(qc, <ListFilterBar filters={filters} setFilters={setFilters} query="" setQuery={() => {}} searchRef={{ current: null }} me={me} />);
    expect(setFilters).toHaveBeenCalledWith({ ...filters, labels: [5] });
    setFilters.mockClear();
    fireEvent.click(screen.getByRole("button", { name: "VIP" }));
    const menu = screen.getByRole("dialog", { name: "Labels" });
    expect([...menu.querySelectorAll(".count")].map((c) => c.textContent)).toEqual(["2", "0", "0"]);
    fireEvent.click(screen.getByRole("checkbox", { name: /^Wholesale/ }));
    expect(setFilters).toHaveBeenLastCalledWith({ ...filters, labels: [5, 42, 6] });
    fireEvent.click(screen.getByRole("radio", { name: "All of them" }));
    expect(setFilters).toHaveBeenLastCalledWith({ ...filters, labelMatch: "all" });
  });
});

describe("Saved views", () => {
  const team: SavedView = { id: 1, name: "Hot", shared: true, filters: { status: "open", waiting: true }, updated_at: "2026-12-03T10:00:00Z" };
  const own: SavedView = { id: 2, name: "Mine VIP", shared: false, filters: { assignee: "me", label: [5] }, updated_at: "2026-12-03T10:00:00Z" };
  const bar = (filters: ListFilters, setFilters = vi.fn()) => {
    const qc = new QueryClient();
    qc.setQueryData(keys.views, { items: [team, own], counts: { "1": 4, "2": 1 }, changes_at: null });
    wrap(qc, <ViewBar filters={filters} setFilters={setFilters} me={me} />);
    return setFilters;
  };

  it("show beside the tabs with their counts and open as their filters", () => {
    const setFilters = bar(DEFAULT_FILTERS);
    const buttons = screen.getAllByRole("button", { pressed: false });
    expect(buttons.map((b) => b.textContent)).toEqual(["Hot 4", "Mine VIP 1"]);
    fireEvent.click(screen.getByRole("button", { name: /Mine VIP/ }));
    expect(setFilters).toHaveBeenCalledWith({ ...DEFAULT_FILTERS, status: null, tab: "mine", labels: [5], view: 2 });
    // The default list is nothing to save.
    expect(screen.queryByRole("button", { name: "Save view" })).toBeNull();
  });

  it("offer saving changed filters: to one's own view, not to the team's for a manager", () => {
    bar({ ...DEFAULT_FILTERS, status: null, tab: "mine", labels: [5, 6], view: 2 });
    expect(screen.getByRole("button", { name: "Mine VIP 1" }).getAttribute("aria-pressed")).toBe("true");
    expect(screen.getByRole("button", { name: "Save changes to Mine VIP" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Save view" })).toBeTruthy();
    cleanup();
    bar({ ...DEFAULT_FILTERS, waiting: true, unread: true, view: 1 });
    expect(screen.queryByRole("button", { name: /Save changes/ })).toBeNull();
    expect(screen.queryByRole("button", { name: "Edit view" })).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Save view" }));
    // A manager's view is their own: no sharing offered.
    expect(screen.getByRole("textbox", { name: "View name" })).toBeTruthy();
    expect(screen.queryByRole("checkbox", { name: "Share with the team" })).toBeNull();
  });
});

describe("Bulk changes", () => {
  it("take at most what the server's contract takes at once", () => {
    const ids = (contract as { components: { schemas: { BulkBody: { properties: { ids: { maxItems: number } } } } } }).components.schemas.BulkBody
      .properties.ids;
    expect(ids.maxItems).toBe(BULK_LIMIT);
    expect(capped(new Set(Array.from({ length: BULK_LIMIT + 5 }, (_, i) => i))).size).toBe(BULK_LIMIT);
  });
});
