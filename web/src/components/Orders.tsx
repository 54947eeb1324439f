import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { api, type OrderFields } from "../api/client";
import type { Bundle, Order, OrderItem } from "../api/types";
import { amount, day } from "../format";
import { keys } from "../state/cache";
import { t } from "../strings";
import { ConfirmButton } from "./Confirm";
import { ErrorLine, useActionError } from "./ErrorLine";

const STATUSES = ["new", "paid", "shipped", "delivered", "cancelled"];
// One item per line, as a person writes it: "Sofa", "Cushion × 2", "Cushion × 2 @ 19,90".
const ITEM_LINE = /^(.*?)(?:\s*[×x*]\s*(\d+))?(?:\s*@\s*([\d.,\s]+))?$/i;

/** An order's items as lines of text, and back (the server reads the amounts). */
export function itemLines(items: Record<string, unknown>[]): string {
  return items
    .map((item) => {
      const quantity = Number(item.quantity ?? 1);
      const price = item.price === null || item.price === undefined ? "" : ` @ ${String(item.price)}`;
      return `${String(item.name ?? "")}${quantity !== 1 ? ` × ${quantity}` : ""}${price}`;
    })
    .join("\n");
}

export function parseItems(text: string): OrderItem[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [, name = line, quantity, price] = ITEM_LINE.exec(line) ?? [];
      return { name: name.trim(), quantity: quantity ? Number(quantity) : 1, ...(price ? { price: price.trim() } : {}) };
    });
}

function OrderForm({ order, onSave, onCancel }: { order?: Order; onSave: (fields: OrderFields) => void; onCancel: () => void }) {
  return (
    <form
      noValidate
      className="stack order-form"
      onSubmit={(e: FormEvent<HTMLFormElement>) => {
        e.preventDefault();
        const form = new FormData(e.currentTarget);
        onSave({
          number: String(form.get("number")).trim(),
          status: String(form.get("status") || "new"),
          total: String(form.get("total") || "0"),
          currency: String(form.get("currency") || "EUR")
            .trim()
            .toUpperCase(),
          items: parseItems(String(form.get("items") ?? "")),
        });
      }}
    >
      <label>
        {t.side.orderNumber}
        <input name="number" defaultValue={order?.number} required />
      </label>
      <label>
        {t.side.orderTotal}
        <input name="total" defaultValue={order?.total} inputMode="decimal" placeholder="149,90" />
      </label>
      <label>
        {t.side.orderCurrency}
        <input name="currency" defaultValue={order?.currency ?? "EUR"} maxLength={3} />
      </label>
      <label>
        {t.side.orderStatus}
        <select name="status" defaultValue={order?.status ?? "new"}>
          {Array.from(new Set([...STATUSES, order?.status ?? "new"])).map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t.side.orderItems}
        <textarea name="items" defaultValue={itemLines(order?.items ?? [])} placeholder={t.side.orderItemsHint} rows={3} />
      </label>
      <div>
        <button type="submit">{t.save}</button>
        <button type="button" onClick={onCancel}>
          {t.cancel}
        </button>
      </div>
    </form>
  );
}

/** The contact's orders: added, changed and deleted in place, each with its date. */
export function Orders({ bundle }: { bundle: Bundle }) {
  const qc = useQueryClient();
  const [editing, setEditing] = useState<number | "new" | null>(null);
  const { error, run } = useActionError();
  const contact = bundle.contact;
  if (!contact) return null;
  const update = (change: (orders: Order[]) => Order[]) =>
    qc.setQueryData<Bundle>(keys.bundle(bundle.conversation.id), (b) => (b ? { ...b, orders: change(b.orders) } : b));
  const put = (order: Order) => update((orders) => [order, ...orders.filter((o) => o.id !== order.id)]);

  return (
    <section>
      <h3>{t.side.orders}</h3>
      {bundle.orders.length === 0 && <p className="muted">{t.side.noOrders}</p>}
      <ul className="orders">
        {bundle.orders.map((o) =>
          editing === o.id ? (
            <li key={o.id}>
              <OrderForm
                order={o}
                onSave={(fields) =>
                  run(api.patchOrder(o.id, fields), (changed) => {
                    put(changed);
                    setEditing(null);
                  })
                }
                onCancel={() => setEditing(null)}
              />
            </li>
          ) : (
            <li key={o.id} data-order={o.id}>
              <strong>#{o.number}</strong> · {amount(o.total)} {o.currency} · {o.status}
              <div className="muted small">
                <time dateTime={o.created_at}>{day(o.created_at)}</time>
                {o.items.length > 0 && ` · ${itemLines(o.items).replace(/\n/g, ", ")}`}
              </div>
              <button type="button" className="link" onClick={() => setEditing(o.id)}>
                {t.edit}
              </button>{" "}
              <ConfirmButton
                className="link"
                question={t.side.deleteOrder(o.number)}
                confirm={t.delete}
                onConfirm={() => run(api.deleteOrder(o.id), () => update((orders) => orders.filter((x) => x.id !== o.id)))}
              >
                {t.delete}
              </ConfirmButton>
            </li>
          ),
        )}
      </ul>
      {editing === "new" ? (
        <OrderForm
          onSave={(fields) =>
            run(api.addOrder(contact.id, fields), (added) => {
              put(added);
              setEditing(null);
            })
          }
          onCancel={() => setEditing(null)}
        />
      ) : (
        <button type="button" className="link" onClick={() => setEditing("new")}>
          {t.side.addOrder}
        </button>
      )}
      <ErrorLine error={error} />
    </section>
  );
}
