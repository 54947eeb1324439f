import { type ReactNode, type RefObject, useState } from "react";

import type { ListFilters } from "../api/client";
import type { Manager, Status } from "../api/types";
import { DEFAULT_FILTERS } from "../state/filters";
import { useCounts, useTeam } from "../state/hooks";
import { t } from "../strings";
import { LabelFilter } from "./Labels";
import { NumberSelect } from "./NumberBadge";
import { OwnerSelect } from "./OwnerSelect";
import { ViewBar } from "./ViewBar";

const PLATFORMS = Object.keys(t.platforms);
// "No reply for more than N hours": the choices offered (a view saved through the API may hold
// any number of hours up to a month; it is shown as one more choice).
const WAIT_HOURS = [1, 4, 24, 48];

interface Props {
  filters: ListFilters;
  setFilters: (f: ListFilters) => void;
  /** The search box's text, applied to the filters a moment after typing stops. */
  query: string;
  setQuery: (q: string) => void;
  searchRef: RefObject<HTMLInputElement | null>;
  me: Manager;
  /** Shown between the tabs and the search (the new chat form). */
  children?: ReactNode;
}

/** Which labels the list shows (any or all of them), with each label's open conversations. */
function Labels({ filters, setFilters, counts }: Pick<Props, "filters" | "setFilters"> & { counts: Record<string, number> | undefined }) {
  return (
    <LabelFilter selected={filters.labels} onChange={(labels) => setFilters({ ...filters, labels })} counts={counts ?? {}}>
      {filters.labels.length > 1 && (
        <fieldset className="label-match">
          {(["any", "all"] as const).map((m) => (
            <label key={m}>
              <input type="radio" name="label-match" checked={filters.labelMatch === m} onChange={() => setFilters({ ...filters, labelMatch: m })} />
              {t.labels[m]}
            </label>
          ))}
        </fieldset>
      )}
      {filters.labels.length > 0 && (
        <button type="button" className="link" onClick={() => setFilters({ ...filters, labels: [], labelMatch: "any" })}>
          {t.labels.clear}
        </button>
      )}
    </LabelFilter>
  );
}

/** Whose conversations, beyond the tabs: a colleague's (only in "All"). */
function AssigneeSelect({ filters, setFilters }: Pick<Props, "filters" | "setFilters">) {
  const team = useTeam().data?.items ?? [];
  if (filters.tab !== "all") return null;
  return (
    <select
      aria-label={t.assignee.label}
      value={filters.assignee ?? ""}
      onChange={(e) => setFilters({ ...filters, assignee: e.target.value ? Number(e.target.value) : null })}
    >
      <option value="">{t.assignee.any}</option>
      {team.map((m) => (
        <option key={m.id} value={m.id}>
          {m.name}
        </option>
      ))}
    </select>
  );
}

/** Who wrote last: anyone, the customer (waiting for us), or the customer and long ago. */
function WaitingSelect({ filters, setFilters }: Pick<Props, "filters" | "setFilters">) {
  const hours = filters.waitingHours;
  const choices = hours !== null && !WAIT_HOURS.includes(hours) ? [...WAIT_HOURS, hours].sort((a, b) => a - b) : WAIT_HOURS;
  const value = hours !== null ? String(hours) : filters.waiting ? "us" : "";
  return (
    <select
      aria-label={t.waiting.label}
      value={value}
      onChange={(e) => {
        const v = e.target.value;
        setFilters({ ...filters, waiting: v !== "", waitingHours: v === "" || v === "us" ? null : Number(v) });
      }}
    >
      <option value="">{t.waiting.any}</option>
      <option value="us">{t.waiting.us}</option>
      {choices.map((h) => (
        <option key={h} value={h}>
          {t.waiting.hours(h)}
        </option>
      ))}
    </select>
  );
}

/** The list's tabs with their counts, the saved views, the search, and the filters. */
export function ListFilterBar({ filters, setFilters, query, setQuery, searchRef, me, children }: Props) {
  const counts = useCounts();
  const inView = filters.view != null;
  // The filters used less often wait behind "More filters", unless one of them is set.
  const [showMore, setShowMore] = useState(false);
  const more = showMore || filters.assignee !== null || filters.owner !== null || filters.archived;
  const tab = (name: ListFilters["tab"], label: string, count: number | undefined) => (
    <button
      type="button"
      role="tab"
      aria-selected={filters.tab === name && !inView}
      className={filters.tab === name && !inView ? "active" : ""}
      title={t.tabCounts[name]}
      aria-description={t.tabCounts[name]}
      // Out of a saved view, a tab is its own list again; otherwise the filters stay.
      onClick={() => setFilters({ ...(inView ? DEFAULT_FILTERS : filters), q: filters.q, tab: name, assignee: null, view: null })}
    >
      {label} {count !== undefined && <span className="count">{count}</span>}
    </button>
  );
  // A search in the default view looks at open conversations only: said, with the way out.
  const narrowSearch = filters.q !== "" && filters.status === "open";

  return (
    <>
      <div role="tablist" className="tabs">
        {tab("mine", t.tabs.mine, counts.data?.mine)}
        {tab("unassigned", t.tabs.unassigned, counts.data?.unassigned)}
        {tab("all", t.tabs.all, counts.data?.all_open)}
      </div>
      <ViewBar filters={filters} setFilters={setFilters} me={me} />
      {children}
      <input
        ref={searchRef}
        type="search"
        className="search"
        placeholder={t.search}
        aria-label={t.search}
        value={query}
        onChange={(e) => setQuery(e.target.value)}
      />
      <div className="chips">
        <select
          aria-label={t.filters.status}
          value={filters.status ?? ""}
          onChange={(e) => setFilters({ ...filters, status: (e.target.value || null) as Status | null })}
        >
          <option value="">{t.filters.anyStatus}</option>
          {(["open", "pending", "resolved", "snoozed"] as const).map((s) => (
            <option key={s} value={s}>
              {t.status[s]}
            </option>
          ))}
        </select>
        <select
          aria-label={t.filters.platform}
          value={filters.platform ?? ""}
          onChange={(e) => setFilters({ ...filters, platform: e.target.value || null })}
        >
          <option value="">{t.filters.anyPlatform}</option>
          {PLATFORMS.map((p) => (
            <option key={p} value={p}>
              {t.platforms[p]}
            </option>
          ))}
        </select>
        <NumberSelect value={filters.number ?? ""} onChange={(number) => setFilters({ ...filters, number: number || null })} />
        <Labels filters={filters} setFilters={setFilters} counts={counts.data?.labels} />
        <WaitingSelect filters={filters} setFilters={setFilters} />
        <label className="chip">
          <input type="checkbox" checked={filters.unread} onChange={(e) => setFilters({ ...filters, unread: e.target.checked })} />
          {t.filters.unread}
        </label>
        {more ? (
          <>
            <AssigneeSelect filters={filters} setFilters={setFilters} />
            <OwnerSelect
              value={filters.owner ?? ""}
              anyLabel={t.filters.anyOwner}
              onChange={(owner) => setFilters({ ...filters, owner: owner || null })}
            />
            <label className="chip">
              <input type="checkbox" checked={filters.archived} onChange={(e) => setFilters({ ...filters, archived: e.target.checked })} />
              {t.filters.archived}
            </label>
          </>
        ) : (
          <button type="button" className="link" aria-expanded={false} onClick={() => setShowMore(true)}>
            {t.filters.more}
          </button>
        )}
      </div>
      {narrowSearch && (
        <p className="search-scope">
          {t.onlyOpenSearched}{" "}
          <button type="button" className="link" onClick={() => setFilters({ ...filters, status: null })}>
            {t.searchEveryStatus}
          </button>
        </p>
      )}
    </>
  );
}
