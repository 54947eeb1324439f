import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { useNavigate, useSearchParams } from "react-router";

import { api, type BoardFilters } from "../api/client";
import type { Deal, Pipeline } from "../api/types";
import { BoardColumn } from "../components/BoardColumn";
import { ConfirmButton } from "../components/Confirm";
import { DealForm, LostDialog } from "../components/DealForm";
import { ErrorLine } from "../components/ErrorLine";
import { OwnerSelect } from "../components/OwnerSelect";
import { useShell } from "../components/Shell";
import { amount, moment } from "../format";
import { paths } from "../routes";
import { appendCards, applyDeal } from "../state/dealCache";
import { useBoard, useLabels, usePipelines } from "../state/hooks";
import { keys } from "../state/keys";
import { useDealMove } from "../state/useDealMove";
import { t } from "../strings";

/** A pipeline's board: a column per stage, cards dragged (or moved by Alt+←/→) between them,
 * filtered by owner and label; a card opens its deal beside the board. */
export function DealsPage() {
  const { me } = useShell();
  const qc = useQueryClient();
  const [search, setSearch] = useSearchParams();
  const pipelines = usePipelines();
  const labels = useLabels();
  const chosen = Number(search.get("pipeline")) || null;
  const pipeline = pipelines.data?.items.find((p) => p.id === chosen) ?? pipelines.data?.items[0];
  const filters: BoardFilters = { owner: search.get("owner"), label: Number(search.get("label")) || null };
  const board = useBoard(pipeline?.id ?? null, filters);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<number | "new" | null>(null);
  const { move, pendingLoss, confirmLoss, cancelLoss } = useDealMove(pipelines.data?.items, setError);
  // The columns whose next page is on its way, per board (its filters) and stage.
  const loading = useRef(new Set<string>());

  function setParam(name: string, value: string | null) {
    const next = new URLSearchParams(search);
    if (value) next.set(name, value);
    else next.delete(name);
    setSearch(next, { replace: true });
  }

  function dealById(id: number): Deal | undefined {
    for (const column of board.data?.columns ?? []) {
      const found = column.deals.items.find((d) => d.id === id);
      if (found) return found;
    }
    return undefined;
  }

  function loadMore(stageId: number, cursor: string) {
    if (!pipeline) return;
    const key = keys.board(pipeline.id, filters);
    const busy = `${JSON.stringify(key)}:${stageId}`;
    if (loading.current.has(busy)) return;
    loading.current.add(busy);
    api.column(stageId, filters, cursor).then(
      (page) => {
        loading.current.delete(busy);
        appendCards(qc, key, stageId, page);
      },
      (err: Error) => {
        loading.current.delete(busy);
        setError(err.message);
      },
    );
  }

  function step(deal: Deal, by: -1 | 1) {
    if (!pipeline) return;
    const at = pipeline.stages.findIndex((s) => s.id === deal.stage_id);
    const target = pipeline.stages[at + by];
    if (target) move(deal, target.id);
  }

  if (pipelines.data && !pipeline) {
    return (
      <main className="board-page">
        <p className="muted">{t.deals.none}</p>
      </main>
    );
  }
  return (
    <main className="board-page" aria-busy={board.isPending}>
      <div className="board-bar">
        <h1>{t.deals.title}</h1>
        {(pipelines.data?.items.length ?? 0) > 1 && (
          <select aria-label={t.deals.pipeline} value={pipeline?.id} onChange={(e) => setParam("pipeline", e.target.value)}>
            {pipelines.data?.items.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        )}
        <OwnerSelect
          value={filters.owner ?? ""}
          onChange={(owner) => setParam("owner", owner || null)}
          anyLabel={t.deals.everyone}
          mineLabel={t.deals.mine}
        />
        <select aria-label={t.deals.label} value={filters.label ?? ""} onChange={(e) => setParam("label", e.target.value || null)}>
          <option value="">{t.deals.anyLabel}</option>
          {(labels.data?.items ?? []).map((l) => (
            <option key={l.id} value={l.id}>
              {l.name}
            </option>
          ))}
        </select>
        <button type="button" className="primary" onClick={() => setOpen("new")}>
          {t.deals.add}
        </button>
      </div>
      <ErrorLine error={error ?? (board.error ? board.error.message : null)} />
      <div className="board">
        {pipeline &&
          board.data?.columns.map((column) => {
            const stage = pipeline.stages.find((s) => s.id === column.stage_id);
            if (!stage) return null;
            return (
              <BoardColumn
                key={column.stage_id}
                stage={stage}
                column={column}
                loadMore={() => column.deals.next_cursor && loadMore(column.stage_id, column.deals.next_cursor)}
                onOpen={(deal) => setOpen(deal.id)}
                onStep={step}
                onDropDeal={(id, beforeId) => {
                  const deal = dealById(id);
                  if (deal) move(deal, column.stage_id, beforeId);
                }}
              />
            );
          })}
      </div>
      {pipeline && open !== null && (
        <DealDrawer
          key={open}
          id={open}
          pipeline={pipeline}
          me={me.id}
          onClose={() => setOpen(null)}
          onMove={(deal, stageId) => move(deal, stageId)}
          onCreated={(deal) => setOpen(deal.id)}
        />
      )}
      {pendingLoss && <LostDialog pipeline={pendingLoss.pipeline} onConfirm={confirmLoss} onCancel={cancelLoss} />}
    </main>
  );
}

/** A deal beside the board: its fields, its stage, its history; or the form of a new one. */
function DealDrawer({
  id,
  pipeline,
  me,
  onClose,
  onMove,
  onCreated,
}: {
  id: number | "new";
  pipeline: Pipeline;
  me: number;
  onClose: () => void;
  onMove: (deal: Deal, stageId: number) => void;
  onCreated: (deal: Deal) => void;
}) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const detail = useQuery({ queryKey: keys.deal(id === "new" ? 0 : id), queryFn: () => api.deal(id as number), enabled: id !== "new" });
  const [error, setError] = useState<string | null>(null);
  const deal = detail.data?.deal;
  const stageName = (stageId: number | null) => pipeline.stages.find((s) => s.id === stageId)?.name ?? "—";
  return (
    <aside className="side deal-drawer" aria-label={deal?.title ?? t.deals.add} onKeyDown={(e) => e.key === "Escape" && onClose()}>
      <button type="button" className="close" onClick={onClose} aria-label={t.deals.close}>
        ×
      </button>
      {id === "new" ? (
        <DealForm pipeline={pipeline} me={me} onDone={onCreated} onCancel={onClose} />
      ) : !deal ? (
        <div aria-busy="true" />
      ) : (
        <>
          <h3>{deal.title}</h3>
          <p>
            <strong>
              {amount(deal.value)} {deal.currency}
            </strong>{" "}
            · {deal.status === "open" ? stageName(deal.stage_id) : deal.status === "won" ? t.deals.won : t.deals.lost}
          </p>
          <label>
            {t.deals.stage}
            <select value={deal.stage_id} onChange={(e) => onMove(deal, Number(e.target.value))}>
              {pipeline.stages.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          </label>
          {deal.status === "lost" && (
            <p className="muted">
              {t.deals.reason}: {pipeline.lost_reasons.find((r) => r.id === deal.lost_reason_id)?.name ?? "—"}
              {deal.lost_note ? ` · ${deal.lost_note}` : ""}
            </p>
          )}
          {deal.contact && (
            <p>
              {t.deals.contact}:{" "}
              <button type="button" className="link" onClick={() => navigate(paths.contact(deal.contact!.id))}>
                {deal.contact.display_name ?? deal.contact.phone} · {t.deals.openContact}
              </button>
            </p>
          )}
          <DealForm key={deal.version} deal={deal} pipeline={pipeline} me={me} onDone={() => undefined} onCancel={() => undefined} />
          <section>
            <h3>{t.deals.history}</h3>
            <ol className="deal-history">
              {detail.data?.history.map((h) => (
                <li key={h.id}>
                  {h.from_stage_id === null ? t.deals.created(h.to_stage ?? "—") : t.deals.step(h.from_stage ?? "—", h.to_stage ?? "—")}
                  <span className="muted">
                    {" "}
                    · {h.manager_name ?? "—"} · {moment(h.at)}
                  </span>
                </li>
              ))}
            </ol>
          </section>
          <ErrorLine error={error} />
          <ConfirmButton
            className="danger"
            question={t.deals.removeQuestion}
            confirm={t.deals.remove}
            onConfirm={() =>
              api.deleteDeal(deal.id).then(
                () => {
                  applyDeal(qc, deal.id, null);
                  onClose();
                },
                (err: Error) => setError(err.message),
              )
            }
          >
            {t.deals.remove}
          </ConfirmButton>
        </>
      )}
    </aside>
  );
}
