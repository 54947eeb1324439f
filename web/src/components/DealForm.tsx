import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useRef } from "react";

import { api } from "../api/client";
import type { Deal, Pipeline } from "../api/types";
import { applyDeal } from "../state/dealCache";
import { useTeam } from "../state/hooks";
import { t } from "../strings";
import { ErrorLine, useActionError } from "./ErrorLine";

/** A deal's fields: a new one (in a pipeline, for a customer when it starts from a
 * conversation) or one changed. Only what changed is sent; the answer goes on every board. */
export function DealForm({
  deal,
  pipeline,
  contact,
  me,
  onDone,
  onCancel,
}: {
  deal?: Deal;
  pipeline: Pipeline;
  contact?: { id: number; name: string | null } | null;
  me: number;
  onDone: (deal: Deal) => void;
  onCancel: () => void;
}) {
  const qc = useQueryClient();
  const team = useTeam();
  const { error, run } = useActionError();
  const first = useRef<HTMLInputElement>(null);
  // A new deal's form opens at its title (the manager asked for it); an edit stays quiet.
  useEffect(() => {
    if (!deal) first.current?.focus();
  }, [deal]);

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    const owner = text("owner_id");
    const fields = {
      title: text("title"),
      value: text("value") || "0",
      currency: text("currency").toUpperCase(),
      owner_id: owner ? Number(owner) : null,
      expected_close: text("expected_close") || null,
    };
    const done = (saved: Deal) => {
      applyDeal(qc, saved.id, saved);
      onDone(saved);
    };
    if (!deal) {
      const stage = text("stage_id");
      run(
        api.addDeal({
          ...fields,
          pipeline_id: pipeline.id,
          stage_id: stage ? Number(stage) : null,
          contact_id: contact?.id ?? null,
          owner_id: fields.owner_id ?? undefined,
        }),
        done,
      );
      return;
    }
    const changes: Record<string, unknown> = {};
    if (fields.title !== deal.title) changes.title = fields.title;
    if (fields.value !== deal.value) changes.value = fields.value; // the server reads "1.234,50" too
    if (fields.currency !== deal.currency) changes.currency = fields.currency;
    if (fields.owner_id !== deal.owner_id) changes.owner_id = fields.owner_id;
    if (fields.expected_close !== deal.expected_close) changes.expected_close = fields.expected_close;
    if (Object.keys(changes).length === 0) {
      onCancel();
      return;
    }
    run(api.patchDeal(deal.id, changes), done);
  }

  const openStages = pipeline.stages.filter((s) => s.kind === "open");
  return (
    <form noValidate onSubmit={submit} className="stack deal-form" aria-label={deal ? deal.title : t.deals.add}>
      <label>
        {t.deals.dealTitle}
        <input name="title" required maxLength={200} defaultValue={deal?.title ?? ""} ref={first} />
      </label>
      {contact && (
        <p className="muted">
          {t.deals.contact}: {contact.name ?? "—"}
        </p>
      )}
      <div className="deal-fields">
        <label>
          {t.deals.value}
          <input name="value" inputMode="decimal" defaultValue={deal?.value ?? ""} placeholder="0" />
        </label>
        <label>
          {t.deals.currency}
          <input name="currency" maxLength={3} size={4} defaultValue={deal?.currency ?? pipeline.currency} />
        </label>
      </div>
      {!deal && (
        <label>
          {t.deals.stage}
          <select name="stage_id" defaultValue={openStages[0]?.id}>
            {openStages.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
      )}
      <label>
        {t.deals.owner}
        <select name="owner_id" defaultValue={deal ? (deal.owner_id ?? "") : me}>
          <option value="">{t.deals.noOwner}</option>
          {(team.data?.items ?? []).map((m) => (
            <option key={m.id} value={m.id}>
              {m.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t.deals.expectedClose}
        <input name="expected_close" type="date" defaultValue={deal?.expected_close ?? ""} />
      </label>
      <ErrorLine error={error} />
      <div>
        <button type="submit">{deal ? t.deals.save : t.deals.create}</button>
        <button type="button" onClick={onCancel}>
          {t.cancel}
        </button>
      </div>
    </form>
  );
}

/** Why a deal was lost: one of the pipeline's reasons, and a note. */
export function LostDialog({
  pipeline,
  onConfirm,
  onCancel,
}: {
  pipeline: Pipeline;
  onConfirm: (reason: number | null, note: string) => void;
  onCancel: () => void;
}) {
  const reason = useRef<HTMLSelectElement>(null);
  useEffect(() => reason.current?.focus(), []);
  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const chosen = String(form.get("reason") ?? "");
    onConfirm(chosen ? Number(chosen) : null, String(form.get("note") ?? "").trim());
  }
  return (
    <div className="modal" role="dialog" aria-modal="true" aria-label={t.deals.lostWhy}>
      <form noValidate onSubmit={submit} className="stack" onKeyDown={(e) => e.key === "Escape" && onCancel()}>
        <h2>{t.deals.lostWhy}</h2>
        <label>
          {t.deals.reason}
          <select name="reason" defaultValue={pipeline.lost_reasons[0]?.id} ref={reason}>
            {pipeline.lost_reasons.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t.deals.lostNote}
          <input name="note" maxLength={500} />
        </label>
        <div>
          <button type="submit" className="danger">
            {t.deals.markLost}
          </button>
          <button type="button" onClick={onCancel}>
            {t.cancel}
          </button>
        </div>
      </form>
    </div>
  );
}
