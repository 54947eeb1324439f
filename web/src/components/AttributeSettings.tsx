import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";

import { api } from "../api/client";
import type { AttributeKind, ContactAttribute } from "../api/types";
import { keys } from "../state/cache";
import { useContactAttributes } from "../state/hooks";
import { t } from "../strings";
import { ConfirmButton } from "./Confirm";
import { ErrorLine, useActionError } from "./ErrorLine";

const KINDS: AttributeKind[] = ["text", "number", "date", "boolean", "choice"];

function lines(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
}

/** One attribute: renamed in place, a choice's options edited, removed after asking. */
function AttributeRow({
  a,
  put,
  run,
}: {
  a: ContactAttribute;
  put: (a: ContactAttribute | number) => void;
  run: ReturnType<typeof useActionError>["run"];
}) {
  const [label, setLabel] = useState(a.label);
  const [choices, setChoices] = useState(a.choices.join("\n"));
  const rename = () => label.trim() && label.trim() !== a.label && run(api.patchAttribute(a.id, { label: label.trim() }), put);
  const saveChoices = () => {
    const next = lines(choices);
    if (next.join("\n") !== a.choices.join("\n")) run(api.patchAttribute(a.id, { choices: next, based_on: a.updated_at }), put);
  };
  return (
    <tr data-attribute={a.key}>
      <td>
        <input
          aria-label={t.attributes.rename(a.label)}
          value={label}
          onChange={(e) => setLabel(e.target.value)}
          onBlur={rename}
          onKeyDown={(e) => e.key === "Enter" && rename()}
        />
        <div className="muted small">{t.attributes.key(a.key)}</div>
      </td>
      <td>{t.attributes.kinds[a.kind]}</td>
      <td>
        {a.kind === "choice" && (
          <textarea
            aria-label={t.attributes.choicesOf(a.label)}
            rows={Math.min(6, a.choices.length + 1)}
            value={choices}
            onChange={(e) => setChoices(e.target.value)}
            onBlur={saveChoices}
          />
        )}
      </td>
      <td>
        <ConfirmButton
          question={t.attributes.removeQuestion(a.label)}
          confirm={t.attributes.remove}
          onConfirm={() => run(api.deleteAttribute(a.id), () => put(a.id))}
        >
          {t.attributes.remove}
        </ConfirmButton>
      </td>
    </tr>
  );
}

/** Admins: the attributes the team keeps about its customers, each with a type its values are
 * checked against (by the server, wherever a value comes from). */
export function AttributeSettings() {
  const qc = useQueryClient();
  const list = useContactAttributes();
  const { error, run } = useActionError();
  const [kind, setKind] = useState<AttributeKind>("text");
  const put = (changed: ContactAttribute | number) => {
    qc.setQueryData<{ items: ContactAttribute[] }>(keys.attributes, (d) => {
      if (!d) return d;
      if (typeof changed === "number") return { items: d.items.filter((x) => x.id !== changed) };
      const known = d.items.some((x) => x.id === changed.id);
      return { items: known ? d.items.map((x) => (x.id === changed.id ? changed : x)) : [...d.items, changed] };
    });
    // A definition over values already there converts them: the contacts shown are read again.
    void qc.invalidateQueries({ queryKey: ["contact"] });
  };
  function add(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const el = e.currentTarget;
    const form = new FormData(el);
    const body = { label: String(form.get("label")).trim(), kind, choices: kind === "choice" ? lines(String(form.get("choices") ?? "")) : [] };
    run(api.addAttribute(body), (made) => {
      put(made);
      el.reset();
      setKind("text");
    });
  }
  const items = list.data?.items ?? [];
  return (
    <section className="attribute-settings" aria-label={t.attributes.title}>
      <h2>{t.attributes.title}</h2>
      {list.isSuccess && items.length === 0 && <p className="muted">{t.attributes.none}</p>}
      {items.length > 0 && (
        <table>
          <tbody>
            {items.map((a) => (
              <AttributeRow key={`${a.id}:${a.updated_at}`} a={a} put={put} run={run} />
            ))}
          </tbody>
        </table>
      )}
      <h3>{t.attributes.add}</h3>
      <form noValidate onSubmit={add} className="stack narrow">
        <label>
          {t.attributes.label}
          <input name="label" required maxLength={80} />
        </label>
        <label>
          {t.attributes.kind}
          <select name="kind" value={kind} onChange={(e) => setKind(e.target.value as AttributeKind)}>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {t.attributes.kinds[k]}
              </option>
            ))}
          </select>
        </label>
        {kind === "choice" && (
          <label>
            {t.attributes.choices}
            <textarea name="choices" rows={4} />
          </label>
        )}
        <button type="submit">{t.attributes.add}</button>
        <ErrorLine error={error} />
      </form>
    </section>
  );
}
