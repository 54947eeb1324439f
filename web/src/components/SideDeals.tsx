import { useState } from "react";

import type { Bundle } from "../api/types";
import { amount } from "../format";
import { usePipelines } from "../state/hooks";
import { useDealMove } from "../state/useDealMove";
import { t } from "../strings";
import { DealForm, LostDialog } from "./DealForm";
import { ErrorLine } from "./ErrorLine";

/** The contact's open deals beside the conversation, each movable between its stages, and a
 * new deal for this customer. */
export function SideDeals({ bundle, me }: { bundle: Bundle; me: number }) {
  const pipelines = usePipelines();
  const [adding, setAdding] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const all = pipelines.data?.items ?? [];
  const { move, pendingLoss, confirmLoss, cancelLoss } = useDealMove(all, setError);
  const contact = bundle.contact;
  if (!contact) return null;
  return (
    <section aria-label={t.deals.side}>
      <h3>{t.deals.side}</h3>
      {bundle.deals.length === 0 && !adding && <p className="muted">{t.deals.sideEmpty}</p>}
      <ul className="side-deals">
        {bundle.deals.map((deal) => {
          const pipeline = all.find((p) => p.id === deal.pipeline_id);
          return (
            <li key={deal.id}>
              <strong>{deal.title}</strong>{" "}
              <span className="muted">
                {amount(deal.value)} {deal.currency}
              </span>
              {pipeline && (
                <select aria-label={`${t.deals.stage}: ${deal.title}`} value={deal.stage_id} onChange={(e) => move(deal, Number(e.target.value))}>
                  {pipeline.stages.map((s) => (
                    <option key={s.id} value={s.id}>
                      {s.name}
                    </option>
                  ))}
                </select>
              )}
            </li>
          );
        })}
      </ul>
      <ErrorLine error={error} />
      {adding && all[0] ? (
        <DealForm
          pipeline={all[0]}
          contact={{ id: contact.id, name: contact.display_name ?? contact.phone }}
          me={me}
          onDone={() => setAdding(false)}
          onCancel={() => setAdding(false)}
        />
      ) : (
        <button type="button" className="link" onClick={() => setAdding(true)} disabled={!all[0]}>
          + {t.deals.add}
        </button>
      )}
      {pendingLoss && <LostDialog pipeline={pendingLoss.pipeline} onConfirm={confirmLoss} onCancel={cancelLoss} />}
    </section>
  );
}
