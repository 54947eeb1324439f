import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { api } from "../api/client";
import type { ContactAttribute, ContactDetail } from "../api/types";
import { keys } from "../state/cache";
import { useContactAttributes } from "../state/hooks";
import { t } from "../strings";
import { ErrorLine, useActionError } from "./ErrorLine";

type Value = string | number | boolean | null;

/** What an input holds, as the API is sent it: a number as typed ("1 234,5"), read by the
 * server by the rule a CSV cell is read by; only an emptied field removes the value. */
function typed(a: ContactAttribute, text: string): Value {
  if (text === "") return null;
  if (a.kind === "boolean") return text === "true";
  return text;
}

function shown(value: unknown): string {
  return value === undefined || value === null ? "" : String(value);
}

/** One attribute's input: a select for yes/no and choices (saved when picked), a field for the
 * others (saved when left or on Enter). */
function Field({ a, value, save, refuse }: { a: ContactAttribute; value: unknown; save: (v: Value) => void; refuse: (why: string) => void }) {
  const [text, setText] = useState(shown(value));
  const commit = (input: HTMLInputElement) => {
    // A date the browser cannot read is "" to the page: said, never sent as a removal.
    if (input.validity.badInput) return refuse(t.attributes.unreadable(a.label));
    if (text !== shown(value)) save(typed(a, text.trim()));
  };
  if (a.kind === "boolean" || a.kind === "choice") {
    const options =
      a.kind === "boolean"
        ? [
            ["true", t.attributes.yes],
            ["false", t.attributes.no],
          ]
        : a.choices.map((c) => [c, c]);
    return (
      <select aria-label={a.label} value={shown(value)} onChange={(e) => save(typed(a, e.target.value))}>
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
      aria-label={a.label}
      type={a.kind === "date" ? "date" : "text"}
      inputMode={a.kind === "number" ? "decimal" : undefined}
      value={text}
      onChange={(e) => setText(e.target.value)}
      onBlur={(e) => commit(e.currentTarget)}
      onKeyDown={(e) => e.key === "Enter" && commit(e.currentTarget)}
    />
  );
}

/** The contact's attributes, each edited by its kind; values kept from attributes no longer
 * defined are shown apart and can be removed. Only the attribute changed is sent: a colleague
 * editing another one at the same time keeps theirs. */
export function ContactAttributes({ contact }: { contact: ContactDetail }) {
  const qc = useQueryClient();
  const defined = useContactAttributes().data?.items ?? [];
  const { error, setError, run } = useActionError();
  const values = contact.attributes as Record<string, unknown>;
  const save = (key: string, value: Value) =>
    run(api.patchContact(contact.id, { attributes: { [key]: value } }), (updated) => {
      qc.setQueryData(keys.contact(contact.id), updated);
      void qc.invalidateQueries({ queryKey: keys.contactLists });
    });
  const known = new Set(defined.map((a) => a.key));
  const others = Object.entries(values).filter(([key]) => !known.has(key));
  return (
    <>
      {defined.map((a) => (
        <div key={a.key} data-attribute={a.key}>
          <dt>{a.label}</dt>
          <dd>
            {/* Keyed by the stored value: an answer (or a refused edit) shows what is stored. */}
            <Field key={`${shown(values[a.key])}:${error ?? ""}`} a={a} value={values[a.key]} save={(v) => save(a.key, v)} refuse={setError} />
          </dd>
        </div>
      ))}
      <ErrorLine error={error} />
      {others.length > 0 && (
        <div className="other-details" title={t.attributes.otherHint}>
          <dt>{t.attributes.other}</dt>
          {others.map(([key, value]) => (
            <dd key={key}>
              {key}: {shown(value)}{" "}
              <button type="button" className="link" aria-label={t.attributes.removeValue(key)} onClick={() => save(key, null)}>
                ×
              </button>
            </dd>
          ))}
        </div>
      )}
    </>
  );
}
