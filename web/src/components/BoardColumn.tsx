import { type DragEvent, type KeyboardEvent, useEffect, useState } from "react";
import { Virtuoso } from "react-virtuoso";

import type { BoardColumn as Column, Deal, Stage } from "../api/types";
import { amount } from "../format";
import { t } from "../strings";
import { LabelChips } from "./Labels";

const DRAG_TYPE = "application/x-crm-deal";

/** A stage's column: its name, count and totals, and its cards virtualised, the next page
 * asked for as the column's end scrolls into view. A card dropped on another lands above it;
 * dropped on the column's head or empty space, at its top. */
export function BoardColumn({
  stage,
  column,
  loadMore,
  onOpen,
  onDropDeal,
  onStep,
}: {
  stage: Stage;
  column: Column;
  loadMore: () => void;
  onOpen: (deal: Deal) => void;
  onDropDeal: (dealId: number, beforeId: number | null) => void;
  onStep: (deal: Deal, step: -1 | 1) => void;
}) {
  const [over, setOver] = useState(false);
  const emptied = column.count > 0 && column.deals.items.length === 0 && column.deals.next_cursor !== null;
  // Every loaded card moved away (by colleagues): with nothing to scroll, the next page is asked
  // for at once.
  useEffect(() => {
    if (emptied) loadMore();
  }, [emptied, loadMore]);
  const totals = Object.entries(column.totals).filter(([, v]) => Number(v) !== 0);

  function drop(e: DragEvent<HTMLElement>) {
    e.preventDefault();
    setOver(false);
    const id = Number(e.dataTransfer.getData(DRAG_TYPE));
    if (!id) return;
    const card = (e.target as HTMLElement).closest<HTMLElement>("[data-deal]");
    onDropDeal(id, card ? Number(card.dataset.deal) : null);
  }

  return (
    <section
      className={`deal-column ${stage.kind}${over ? " over" : ""}`}
      aria-label={stage.name}
      onDragOver={(e) => {
        if (e.dataTransfer.types.includes(DRAG_TYPE)) {
          e.preventDefault();
          setOver(true);
        }
      }}
      onDragLeave={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setOver(false);
      }}
      onDrop={drop}
    >
      <header>
        <h2>{stage.name}</h2>
        <span className="deal-count">{t.deals.count(column.count)}</span>
        <span className="deal-total">{totals.map(([currency, value]) => `${amount(value)} ${currency}`).join(" · ") || "—"}</span>
      </header>
      {column.count === 0 ? (
        <p className="muted deal-empty">{t.deals.empty}</p>
      ) : (
        <Virtuoso
          className="deal-cards"
          data={column.deals.items}
          computeItemKey={(_, deal) => deal.id}
          endReached={() => {
            if (column.deals.next_cursor) loadMore();
          }}
          itemContent={(_, deal) => <DealCard deal={deal} onOpen={onOpen} onStep={onStep} />}
        />
      )}
    </section>
  );
}

function DealCard({ deal, onOpen, onStep }: { deal: Deal; onOpen: (deal: Deal) => void; onStep: (deal: Deal, step: -1 | 1) => void }) {
  function key(e: KeyboardEvent<HTMLElement>) {
    if (e.altKey && (e.key === "ArrowLeft" || e.key === "ArrowRight")) {
      e.preventDefault();
      onStep(deal, e.key === "ArrowLeft" ? -1 : 1);
    } else if (e.key === "Enter") {
      onOpen(deal);
    }
  }
  return (
    // biome-ignore lint/a11y/useSemanticElements: a draggable card that opens on click and moves by keyboard
    <div
      className="deal-card"
      role="button"
      tabIndex={0}
      draggable
      data-deal={deal.id}
      aria-label={t.deals.card(deal.title)}
      title={t.deals.moveHint}
      onDragStart={(e) => {
        e.dataTransfer.setData(DRAG_TYPE, String(deal.id));
        e.dataTransfer.effectAllowed = "move";
      }}
      onClick={() => onOpen(deal)}
      onKeyDown={key}
    >
      <strong>{deal.title}</strong>
      <span className="deal-value">
        {amount(deal.value)} {deal.currency}
      </span>
      <span className="muted">
        {deal.contact?.display_name ?? deal.contact?.phone ?? t.deals.noContact} · {deal.owner_name ?? t.deals.noOwner}
      </span>
      <LabelChips ids={deal.label_ids} />
    </div>
  );
}
