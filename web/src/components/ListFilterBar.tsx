import type { ReactNode, RefObject } from "react";

import type { ListFilters } from "../api/client";
import type { Status } from "../api/types";
import { useCounts } from "../state/hooks";
import { t } from "../strings";
import { LabelFilter } from "./Labels";
import { NumberSelect } from "./NumberBadge";

const PLATFORMS = Object.keys(t.platforms);

interface Props {
  filters: ListFilters;
  setFilters: (f: ListFilters) => void;
  /** The search box's text, applied to the filters a moment after typing stops. */
  query: string;
  setQuery: (q: string) => void;
  searchRef: RefObject<HTMLInputElement | null>;
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

/** The list's tabs with their counts, the search, and the filters. */
export function ListFilterBar({ filters, setFilters, query, setQuery, searchRef, children }: Props) {
  const counts = useCounts();
  const tab = (name: ListFilters["tab"], label: string, count: number | undefined) => (
    <button
      type="button"
      role="tab"
      aria-selected={filters.tab === name}
      className={filters.tab === name ? "active" : ""}
      title={t.tabCounts[name]}
      aria-description={t.tabCounts[name]}
      onClick={() => setFilters({ ...filters, tab: name })}
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
        <label className="chip">
          <input type="checkbox" checked={filters.unread} onChange={(e) => setFilters({ ...filters, unread: e.target.checked })} />
          {t.filters.unread}
        </label>
        <label className="chip">
          <input type="checkbox" checked={filters.archived} onChange={(e) => setFilters({ ...filters, archived: e.target.checked })} />
          {t.filters.archived}
        </label>
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
