import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { api } from "../api/client";
import type * as S from "../api/schema";
import { keys } from "../state/cache";
import { useContactAttributes } from "../state/hooks";
import { t } from "../strings";
import { ErrorLine, useActionError } from "./ErrorLine";

const SHOWN = 20;

/** An admin's CSV import: the file, the country its local numbers are written for, each
 * column's field (the server suggests them), the server's preview (what is new, what it
 * updates, every bad row), then the import of the good rows. */
export function ContactImport({ onClose }: { onClose: () => void }) {
  const qc = useQueryClient();
  const { error, run } = useActionError();
  const attributes = useContactAttributes().data?.items ?? [];
  const [text, setText] = useState<string | null>(null);
  const [region, setRegion] = useState("");
  const [preview, setPreview] = useState<S.ImportPreviewOut | null>(null);
  const [done, setDone] = useState<S.ImportOut | null>(null);
  const body = (mapping: Record<string, string> | null, csv = text ?? ""): S.ImportBody => ({
    csv,
    mapping,
    region: region.trim().toUpperCase() || null,
  });
  const look = (mapping: Record<string, string> | null, csv?: string) => run(api.importPreview(body(mapping, csv)), setPreview);

  const shown = done ?? preview;
  return (
    <section className="import" aria-label={t.imports.open}>
      <div className="import-bar">
        <label>
          {t.imports.file}{" "}
          <input
            type="file"
            accept=".csv,text/csv"
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (!file) return;
              setDone(null);
              void file.text().then((csv) => {
                setText(csv);
                look(null, csv);
              });
            }}
          />
        </label>
        <label>
          {t.imports.region}{" "}
          <input
            value={region}
            maxLength={2}
            size={3}
            placeholder={t.imports.regionHint}
            onChange={(e) => setRegion(e.target.value)}
            onBlur={() => text && look(preview?.mapping ?? null)}
          />
        </label>
        <button type="button" onClick={onClose}>
          {t.imports.close}
        </button>
      </div>
      {preview && !done && (
        <table className="import-mapping">
          <thead>
            <tr>
              <th>{t.imports.column}</th>
              <th>{t.imports.as}</th>
            </tr>
          </thead>
          <tbody>
            {preview.columns.map((column) => (
              <tr key={column}>
                <td>{column}</td>
                <td>
                  <select
                    aria-label={`${t.imports.as}: ${column}`}
                    value={preview.mapping[column] ?? "ignore"}
                    onChange={(e) => look({ ...preview.mapping, [column]: e.target.value })}
                  >
                    {preview.fields.map((f) => (
                      <option key={f} value={f}>
                        {t.imports.field[f] ?? f}
                      </option>
                    ))}
                    {attributes.map((a) => (
                      <option key={a.key} value={`attribute:${a.key}`}>
                        {t.imports.attribute(a.label)}
                      </option>
                    ))}
                  </select>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {shown && (
        <div role="status">
          <p>
            {done ? t.imports.done(done.created, done.updated) : preview && t.imports.summary(preview.new, preview.updates, preview.problem_count)}
          </p>
          {!done && (
            <ul className="import-sample">
              {preview?.sample.map((r) => (
                <li key={r.line}>
                  {[r.display_name, r.phone, r.email].filter(Boolean).join(" · ")}{" "}
                  <span className="muted">{r.match ? t.imports.updates(r.match.name, r.match.by) : t.imports.isNew}</span>
                </li>
              ))}
            </ul>
          )}
          <ul className="import-problems">
            {shown.problems.slice(0, SHOWN).map((p) => (
              <li key={`${p.line}-${p.column}`}>{t.imports.problem(p.line, p.column, p.message)}</li>
            ))}
            {shown.problem_count > SHOWN && <li>{t.imports.more(shown.problem_count - SHOWN)}</li>}
          </ul>
        </div>
      )}
      {preview && !done && (
        <button
          type="button"
          className="import-run"
          disabled={preview.new + preview.updates === 0}
          onClick={() =>
            run(api.importContacts(body(preview.mapping)), (result) => {
              setDone(result);
              void qc.invalidateQueries({ queryKey: keys.contactLists });
            })
          }
        >
          {t.imports.run}
        </button>
      )}
      <ErrorLine error={error} />
    </section>
  );
}
