import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";

import { api } from "../api/client";
import type { Pipeline } from "../api/types";
import { dropPipeline, putPipeline } from "../state/dealCache";
import { usePipelines } from "../state/hooks";
import { t } from "../strings";
import { ConfirmButton } from "./Confirm";
import { ErrorLine, useActionError } from "./ErrorLine";

interface StageRow {
  id: number | null;
  name: string;
}

/** One pipeline as an admin changes it: its name and currency, its open stages in order (each
 * kept by its id, so a renamed stage keeps its deals), the won and lost stages' names, and the
 * lost reasons one a line. Saved in one request; the server says what its deals forbid. */
function PipelineForm({ pipeline }: { pipeline: Pipeline }) {
  const qc = useQueryClient();
  const { error, run } = useActionError();
  const open = pipeline.stages.filter((s) => s.kind === "open");
  const [stages, setStages] = useState<StageRow[]>(open.map((s) => ({ id: s.id, name: s.name })));
  const won = pipeline.stages.find((s) => s.kind === "won");
  const lost = pipeline.stages.find((s) => s.kind === "lost");

  function moveRow(i: number, by: -1 | 1) {
    const next = [...stages];
    const [row] = next.splice(i, 1);
    if (row) next.splice(i + by, 0, row);
    setStages(next);
  }

  function save(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    const reasons = text("reasons")
      .split("\n")
      .map((r) => r.trim())
      .filter(Boolean)
      .map((name) => ({ id: pipeline.lost_reasons.find((r) => r.name.toLowerCase() === name.toLowerCase())?.id ?? null, name }));
    run(
      api.patchPipeline(pipeline.id, {
        name: text("name"),
        currency: text("currency").toUpperCase(),
        stages: [
          ...stages.map((s) => ({ id: s.id, name: s.name.trim(), kind: "open" as const })),
          { id: won?.id ?? null, name: text("won"), kind: "won" as const },
          { id: lost?.id ?? null, name: text("lost"), kind: "lost" as const },
        ],
        lost_reasons: reasons,
      }),
      (saved) => putPipeline(qc, saved),
    );
  }

  return (
    <form noValidate onSubmit={save} className="stack pipeline-form" aria-label={pipeline.name}>
      <div className="deal-fields">
        <label>
          {t.pipelines.name}
          <input name="name" defaultValue={pipeline.name} maxLength={60} />
        </label>
        <label>
          {t.deals.currency}
          <input name="currency" defaultValue={pipeline.currency} maxLength={3} size={4} />
        </label>
      </div>
      <fieldset>
        <legend>{t.pipelines.stages}</legend>
        {stages.map((s, i) => (
          <div key={s.id ?? `new${i}`} className="stage-row">
            <input
              aria-label={t.pipelines.stageName(i + 1)}
              value={s.name}
              maxLength={40}
              onChange={(e) => setStages(stages.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)))}
            />
            <button type="button" aria-label={t.pipelines.up} disabled={i === 0} onClick={() => moveRow(i, -1)}>
              ↑
            </button>
            <button type="button" aria-label={t.pipelines.down} disabled={i === stages.length - 1} onClick={() => moveRow(i, 1)}>
              ↓
            </button>
            <button type="button" aria-label={t.pipelines.removeStage} onClick={() => setStages(stages.filter((_, j) => j !== i))}>
              ×
            </button>
          </div>
        ))}
        <button type="button" className="link" onClick={() => setStages([...stages, { id: null, name: "" }])}>
          + {t.pipelines.addStage}
        </button>
        <div className="deal-fields">
          <label>
            {t.pipelines.won}
            <input name="won" defaultValue={won?.name ?? t.deals.won} maxLength={40} />
          </label>
          <label>
            {t.pipelines.lost}
            <input name="lost" defaultValue={lost?.name ?? t.deals.lost} maxLength={40} />
          </label>
        </div>
      </fieldset>
      <label>
        {t.pipelines.reasons}
        <textarea name="reasons" rows={4} defaultValue={pipeline.lost_reasons.map((r) => r.name).join("\n")} />
      </label>
      <ErrorLine error={error} />
      <div>
        <button type="submit">{t.save}</button>
        <ConfirmButton
          question={t.pipelines.removeQuestion(pipeline.name)}
          confirm={t.pipelines.remove}
          onConfirm={() => run(api.deletePipeline(pipeline.id), () => dropPipeline(qc, pipeline.id))}
        >
          {t.pipelines.remove}
        </ConfirmButton>
      </div>
    </form>
  );
}

/** Admins: the team's pipelines and their stages (Team → Pipelines). */
export function PipelineSettings() {
  const qc = useQueryClient();
  const pipelines = usePipelines();
  const { error, run } = useActionError();
  function add() {
    const name = t.pipelines.newName((pipelines.data?.items.length ?? 0) + 1);
    run(
      api.addPipeline({
        name,
        currency: "EUR",
        stages: [
          { name: t.pipelines.firstStage, kind: "open" },
          { name: t.deals.won, kind: "won" },
          { name: t.deals.lost, kind: "lost" },
        ],
      }),
      (made) => putPipeline(qc, made),
    );
  }
  return (
    <section aria-label={t.pipelines.title}>
      <h2>{t.pipelines.title}</h2>
      {pipelines.data?.items.map((p) => (
        <PipelineForm key={`${p.id}-${p.updated_at}`} pipeline={p} />
      ))}
      <ErrorLine error={error} />
      <button type="button" onClick={add}>
        {t.pipelines.add}
      </button>
    </section>
  );
}
