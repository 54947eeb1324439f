import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";

import { api } from "../api/client";
import type { Label } from "../api/types";
import { dropLabel, putLabel } from "../state/teamCache";
import { useLabels } from "../state/hooks";
import { t } from "../strings";
import { ConfirmButton } from "./Confirm";
import { ErrorLine, useActionError } from "./ErrorLine";

// Colours that read well as a tint behind dark text and as a border on light and dark panels.
const PALETTE = ["#2e7d32", "#1565c0", "#6a1b9a", "#c62828", "#ef6c00", "#f9a825", "#00838f", "#5d4037", "#546e7a"];

function LabelRow({ label, run }: { label: Label; run: ReturnType<typeof useActionError>["run"] }) {
  const qc = useQueryClient();
  const [name, setName] = useState(label.name);
  const rename = () => {
    const next = name.trim();
    if (next && next !== label.name) run(api.patchLabel(label.id, { name: next }), (l) => putLabel(qc, l));
    else setName(label.name);
  };
  return (
    <tr data-label={label.id}>
      <td>
        <input
          type="color"
          aria-label={t.labels.colourOf(label.name)}
          value={label.colour}
          onChange={(e) => run(api.patchLabel(label.id, { colour: e.target.value }), (l) => putLabel(qc, l))}
        />
      </td>
      <td>
        <input
          aria-label={t.labels.rename(label.name)}
          value={name}
          maxLength={40}
          onChange={(e) => setName(e.target.value)}
          onBlur={rename}
          onKeyDown={(e) => e.key === "Enter" && rename()}
        />
      </td>
      <td>
        <ConfirmButton
          question={t.labels.removeQuestion(label.name)}
          confirm={t.labels.remove}
          onConfirm={() => run(api.deleteLabel(label.id), () => dropLabel(qc, label.id))}
        >
          {t.labels.remove}
        </ConfirmButton>
      </td>
    </tr>
  );
}

/** Admins: the team's labels, each with a name and a colour; every manager puts them on. */
export function LabelSettings() {
  const qc = useQueryClient();
  const labels = useLabels();
  const { error, run } = useActionError();
  const items = labels.data?.items ?? [];
  const [colour, setColour] = useState(PALETTE[0]!);
  function add(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const el = e.currentTarget;
    const name = String(new FormData(el).get("name")).trim();
    run(api.addLabel({ name, colour }), (made) => {
      putLabel(qc, made);
      el.reset();
      setColour(PALETTE[(items.length + 1) % PALETTE.length]!);
    });
  }
  return (
    <section className="label-settings" aria-label={t.labels.title}>
      <h2>{t.labels.title}</h2>
      <p className="muted">{t.labels.hint}</p>
      {items.length > 0 && (
        <table>
          <tbody>
            {items.map((l) => (
              <LabelRow key={`${l.id}:${l.name}`} label={l} run={run} />
            ))}
          </tbody>
        </table>
      )}
      <form noValidate onSubmit={add} className="inline-form">
        <input name="name" aria-label={t.labels.name} placeholder={t.labels.name} required maxLength={40} />
        <input type="color" aria-label={t.labels.colour} value={colour} onChange={(e) => setColour(e.target.value)} />
        <button type="submit">{t.labels.add}</button>
      </form>
      <ErrorLine error={error} />
    </section>
  );
}
