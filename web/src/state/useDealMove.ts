// Moving a deal: the server places it (above a card, or at the top of a stage) and its answer
// goes on every board and side panel in place. A move to the lost stage first asks why, when
// the pipeline has reasons to choose from.

import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { api } from "../api/client";
import type { Deal, Pipeline } from "../api/types";
import { applyDeal } from "./dealCache";
import { keys } from "./keys";

export interface PendingLoss {
  pipeline: Pipeline;
  deal: Deal;
  stageId: number;
  beforeId: number | null;
}

export function useDealMove(pipelines: Pipeline[] | undefined, onError: (message: string | null) => void) {
  const qc = useQueryClient();
  const [pendingLoss, setPendingLoss] = useState<PendingLoss | null>(null);

  function send(deal: Deal, stageId: number, beforeId: number | null, lost?: { reason: number | null; note: string }) {
    const body = {
      stage_id: stageId,
      before_id: beforeId,
      version: deal.version,
      ...(lost ? { lost_reason_id: lost.reason, lost_note: lost.note || null } : {}),
    };
    api.moveDeal(deal.id, body).then(
      (moved) => {
        applyDeal(qc, moved.id, moved);
        // An open deal's history gained the move (the answer is the deal alone).
        void qc.invalidateQueries({ queryKey: keys.deal(moved.id), exact: true });
        onError(null);
      },
      (err: Error) => {
        onError(err.message);
        // Changed meanwhile (a colleague moved it): the boards show where it is now.
        void qc.invalidateQueries({ queryKey: keys.boards });
      },
    );
  }

  function move(deal: Deal, stageId: number, beforeId: number | null = null) {
    if (beforeId === deal.id) return;
    const pipeline = pipelines?.find((p) => p.id === deal.pipeline_id);
    const stage = pipeline?.stages.find((s) => s.id === stageId);
    const staysLost = deal.stage_id === stageId;
    if (pipeline && stage?.kind === "lost" && !staysLost && pipeline.lost_reasons.length > 0) {
      setPendingLoss({ pipeline, deal, stageId, beforeId });
      return;
    }
    send(deal, stageId, beforeId);
  }

  function confirmLoss(reason: number | null, note: string) {
    if (!pendingLoss) return;
    send(pendingLoss.deal, pendingLoss.stageId, pendingLoss.beforeId, { reason, note });
    setPendingLoss(null);
  }

  return { move, pendingLoss, confirmLoss, cancelLoss: () => setPendingLoss(null) };
}
