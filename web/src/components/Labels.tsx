import { type CSSProperties, type ReactNode, useEffect, useRef, useState } from "react";

import type { Label } from "../api/types";
import { useLabels } from "../state/hooks";
import { t } from "../strings";

/** The labels of these ids, in the team list's order (one unknown here, e.g. just deleted, is left out). */
export function labelsOf(all: Label[] | undefined, ids: readonly number[]): Label[] {
  return ids.length === 0 ? [] : (all ?? []).filter((l) => ids.includes(l.id));
}

function Chip({ label }: { label: Label }) {
  return (
    <span className="label-chip" style={{ "--label": label.colour } as CSSProperties}>
      {label.name}
    </span>
  );
}

/** A row's or a header's labels as coloured chips; past `max`, how many more. */
export function LabelChips({ ids, max = 3 }: { ids: readonly number[]; max?: number }) {
  const labels = useLabels();
  const shown = labelsOf(labels.data?.items, ids);
  if (shown.length === 0) return null;
  return (
    <span className="label-chips" title={t.labels.of(shown.map((l) => l.name))}>
      {shown.slice(0, max).map((l) => (
        <Chip key={l.id} label={l} />
      ))}
      {shown.length > max && <span className="label-chip more">{t.labels.more(shown.length - max)}</span>}
    </span>
  );
}

/**
 * A button that opens the team's labels as a list of checkboxes, with a search: `selected` are
 * ticked, a click calls `onToggle`. `counts` (open conversations per label) are shown when
 * given; `children` go below the list (the filter's any/all choice).
 */
export function LabelPopover({
  button,
  title,
  selected,
  onToggle,
  counts,
  children,
  className = "",
}: {
  button: ReactNode;
  title: string;
  selected: readonly number[];
  onToggle: (id: number, on: boolean) => void;
  counts?: Record<string, number>;
  children?: ReactNode;
  className?: string;
}) {
  const labels = useLabels();
  const [open, setOpen] = useState(false);
  const [query, setQuery] = useState("");
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const away = (e: PointerEvent) => {
      if (box.current && !box.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("pointerdown", away);
    return () => document.removeEventListener("pointerdown", away);
  }, [open]);
  const items = labels.data?.items ?? [];
  const q = query.trim().toLowerCase();
  const matching = q ? items.filter((l) => l.name.toLowerCase().includes(q)) : items;
  return (
    <div className={`label-popover ${className}`} ref={box}>
      <button type="button" aria-expanded={open} aria-haspopup="dialog" onClick={() => setOpen(!open)} className={selected.length > 0 ? "on" : ""}>
        {button}
      </button>
      {open && (
        <div
          role="dialog"
          aria-label={title}
          className="label-menu"
          onKeyDown={(e) => {
            if (e.key === "Escape") {
              e.stopPropagation();
              setOpen(false);
            }
          }}
        >
          {items.length > 6 && (
            <input
              type="search"
              aria-label={t.labels.search}
              placeholder={t.labels.search}
              value={query}
              onChange={(e) => setQuery(e.target.value)}
              // biome-ignore lint/a11y/noAutofocus: a menu the manager just opened: typing finds a label
              autoFocus
            />
          )}
          {labels.isSuccess && items.length === 0 && <p className="muted small">{t.labels.none}</p>}
          {items.length > 0 && matching.length === 0 && <p className="muted small">{t.labels.noMatch}</p>}
          <ul>
            {matching.map((l) => {
              const n = counts?.[l.id] ?? 0;
              return (
                <li key={l.id}>
                  <label>
                    <input type="checkbox" checked={selected.includes(l.id)} onChange={(e) => onToggle(l.id, e.target.checked)} />
                    <Chip label={l} />
                    {counts && (
                      <span className="count" title={t.labels.open(n)}>
                        {n}
                      </span>
                    )}
                  </label>
                </li>
              );
            })}
          </ul>
          {children}
        </div>
      )}
    </div>
  );
}

/**
 * A list's label filter (the inbox's, the Contacts page's): the chosen labels' names on its
 * button, each label's count when given. A label an admin removed meanwhile is no filter any
 * more: dropped, rather than left narrowing the list unseen.
 */
export function LabelFilter({
  selected,
  onChange,
  counts,
  children,
}: {
  selected: readonly number[];
  onChange: (ids: number[]) => void;
  counts?: Record<string, number>;
  children?: ReactNode;
}) {
  const labels = useLabels();
  const chosen = labelsOf(labels.data?.items, selected);
  useEffect(() => {
    if (labels.isSuccess && chosen.length < selected.length) onChange(chosen.map((l) => l.id));
  }, [labels.isSuccess, chosen, selected, onChange]);
  if (labels.isSuccess && labels.data.items.length === 0) return null;
  return (
    <LabelPopover
      className="label-filter"
      button={chosen.length > 0 ? t.labels.filterOn(chosen.map((l) => l.name)) : t.labels.filter}
      title={t.labels.filter}
      selected={selected}
      onToggle={(id, on) => onChange(on ? [...selected, id] : selected.filter((x) => x !== id))}
      counts={counts}
    >
      {children}
    </LabelPopover>
  );
}
