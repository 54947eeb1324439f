import { useEffect, useState } from "react";

import type { ContactAttribute } from "../api/types";
import { useContactAttributes } from "../state/hooks";
import { t } from "../strings";

type Op = "=" | ">=" | "<=" | "has";
interface Condition {
  id: number;
  key: string;
  op: Op;
  value: string;
}
const MAX = 5;
let made = 0;

/** A condition as the API reads it, or null while it has no value yet. A value is sent as
 * typed: the server reads it by the attribute's kind and says what it cannot read. */
function written(c: Condition): string | null {
  if (c.op === "has") return c.key;
  if (c.value.trim() === "") return null;
  return `${c.key}${c.op}${c.value.trim()}`;
}

function ValueInput({ a, c, change }: { a: ContactAttribute; c: Condition; change: (value: string) => void }) {
  if (a.kind === "boolean" || a.kind === "choice") {
    const options =
      a.kind === "boolean"
        ? [
            ["yes", t.attributes.yes],
            ["no", t.attributes.no],
          ]
        : a.choices.map((x) => [x, x]);
    return (
      <select aria-label={t.attributes.value(a.label)} value={c.value} onChange={(e) => change(e.target.value)}>
        <option value="">{t.attributes.unset}</option>
        {options.map(([v, label]) => (
          <option key={v} value={v}>
            {label}
          </option>
        ))}
      </select>
    );
  }
  return (
    <input
      aria-label={t.attributes.value(a.label)}
      type={a.kind === "date" ? "date" : "text"}
      inputMode={a.kind === "number" ? "decimal" : undefined}
      value={c.value}
      onChange={(e) => change(e.target.value)}
    />
  );
}

/** The Contacts page's attribute filters: one chip per condition (a value, a range's end for
 * numbers and dates, or "has a value"); the list follows each complete condition. */
export function AttributeFilters({ onChange }: { onChange: (conditions: string[]) => void }) {
  const query = useContactAttributes();
  const defined = query.data?.items ?? [];
  const [conditions, setConditions] = useState<Condition[]>([]);
  const byKey = new Map(defined.map((a) => [a.key, a]));
  const update = (next: Condition[]) => {
    setConditions(next);
    onChange(next.flatMap((c) => written(c) ?? []));
  };
  // An attribute an admin removed meanwhile takes its conditions with it (the server would
  // refuse the list with them, and they have no chip to be removed by).
  const stale = query.isSuccess && conditions.some((c) => !byKey.has(c.key));
  // biome-ignore lint/correctness/useExhaustiveDependencies: only when an attribute went away
  useEffect(() => {
    if (stale) update(conditions.filter((c) => byKey.has(c.key)));
  }, [stale]);
  if (defined.length === 0) return null;
  return (
    <div className="attribute-filters">
      {conditions.map((c, i) => {
        const a = byKey.get(c.key);
        if (!a) return null;
        const ranged = a.kind === "number" || a.kind === "date";
        const set = (change: Partial<Condition>) => update(conditions.map((x, j) => (j === i ? { ...x, ...change } : x)));
        return (
          <span key={c.id} className="chip" data-filter={c.key}>
            {a.label}{" "}
            <select aria-label={t.attributes.op(a.label)} value={c.op} onChange={(e) => set({ op: e.target.value as Op })}>
              <option value="=">=</option>
              {ranged && <option value=">=">≥</option>}
              {ranged && <option value="<=">≤</option>}
              <option value="has">{t.attributes.has}</option>
            </select>
            {c.op !== "has" && <ValueInput a={a} c={c} change={(value) => set({ value })} />}
            <button
              type="button"
              className="link"
              aria-label={t.attributes.drop(a.label)}
              onClick={() => update(conditions.filter((_, j) => j !== i))}
            >
              ×
            </button>
          </span>
        );
      })}
      {conditions.length < MAX && (
        <select
          aria-label={t.attributes.filter}
          value=""
          onChange={(e) => e.target.value && update([...conditions, { id: ++made, key: e.target.value, op: "=", value: "" }])}
        >
          <option value="">{t.attributes.filter}</option>
          {defined.map((a) => (
            <option key={a.key} value={a.key}>
              {a.label}
            </option>
          ))}
        </select>
      )}
    </div>
  );
}
