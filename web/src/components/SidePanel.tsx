import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { api } from "../api/client";
import type { Bundle, Order } from "../api/types";
import { addNote, keys } from "../state/cache";
import { useBundle } from "../state/hooks";
import { t } from "../strings";
import { ErrorLine, useActionError } from "./ErrorLine";
import { Icon } from "./Icon";

/** The contact, their orders and the conversation's notes: all from the bundle. */
export function SidePanel({ id, onClose }: { id: number; onClose: () => void }) {
  const bundle = useBundle(id);
  if (!bundle.data) return <aside className="side" aria-busy="true" />;
  return (
    <aside className="side" aria-label={t.side.contact}>
      <button type="button" className="side-back" onClick={onClose}>
        ← {t.side.backToThread}
      </button>
      <button type="button" className="close" onClick={onClose} aria-label={t.media.close}>
        <Icon name="close" />
      </button>
      <ContactCard bundle={bundle.data} />
      <Orders bundle={bundle.data} />
      <Notes bundle={bundle.data} />
    </aside>
  );
}

function ContactCard({ bundle }: { bundle: Bundle }) {
  const qc = useQueryClient();
  const contact = bundle.contact;
  const [editing, setEditing] = useState(false);
  const { error, run } = useActionError();
  if (!contact) return null;

  function save(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    // Only what changed is sent; a field emptied is cleared (null), not left as it was.
    const changes: Partial<Record<"display_name" | "phone" | "email", string | null>> = {};
    for (const field of ["display_name", "phone", "email"] as const) {
      const value = String(form.get(field) ?? "").trim() || null;
      if (value !== (contact![field] ?? null)) changes[field] = value;
    }
    if (Object.keys(changes).length === 0) {
      setEditing(false);
      return;
    }
    run(api.patchContact(contact!.id, changes), (updated) => {
      qc.setQueryData<Bundle>(keys.bundle(bundle.conversation.id), (b) =>
        b ? { ...b, contact: { ...b.contact!, display_name: updated.display_name, phone: updated.phone, email: updated.email } } : b,
      );
      setEditing(false);
    });
  }

  return (
    <section>
      <h3>{t.side.contact}</h3>
      {editing ? (
        <form onSubmit={save} className="stack">
          <label>
            {t.side.name}
            <input name="display_name" defaultValue={contact.display_name ?? ""} />
          </label>
          <label>
            {t.side.phone}
            <input name="phone" defaultValue={contact.phone ?? ""} />
          </label>
          <label>
            {t.side.email}
            <input name="email" type="email" defaultValue={contact.email ?? ""} />
          </label>
          <ErrorLine error={error} />
          <div>
            <button type="submit">{t.save}</button>
            <button type="button" onClick={() => setEditing(false)}>
              {t.cancel}
            </button>
          </div>
        </form>
      ) : (
        <dl>
          <dt>{t.side.name}</dt>
          <dd>{contact.display_name ?? "—"}</dd>
          <dt>{t.side.phone}</dt>
          <dd>{contact.phone ?? "—"}</dd>
          <dt>{t.side.email}</dt>
          <dd>{contact.email ? <a href={`mailto:${contact.email}`}>{contact.email}</a> : "—"}</dd>
          <dd>
            <button type="button" className="link" onClick={() => setEditing(true)}>
              {t.side.edit}
            </button>
          </dd>
        </dl>
      )}
    </section>
  );
}

function Orders({ bundle }: { bundle: Bundle }) {
  const qc = useQueryClient();
  const [adding, setAdding] = useState(false);
  const { error, run } = useActionError();
  const contact = bundle.contact;
  if (!contact) return null;
  const put = (order: Order) =>
    qc.setQueryData<Bundle>(keys.bundle(bundle.conversation.id), (b) =>
      b ? { ...b, orders: [order, ...b.orders.filter((o) => o.id !== order.id)] } : b,
    );

  function add(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const form = new FormData(e.currentTarget);
    const order = {
      number: String(form.get("number")),
      status: String(form.get("status") || "new"),
      total: String(form.get("total") || "0"),
      currency: String(form.get("currency") || "EUR"),
    };
    run(api.addOrder(contact!.id, order), (added) => {
      put(added);
      setAdding(false);
    });
  }

  return (
    <section>
      <h3>{t.side.orders}</h3>
      {bundle.orders.length === 0 && <p className="muted">{t.side.noOrders}</p>}
      <ul className="orders">
        {bundle.orders.map((o) => (
          <li key={o.id}>
            <strong>#{o.number}</strong> · {o.total} {o.currency} ·{" "}
            <select
              aria-label={t.side.orderStatus}
              value={o.status}
              onChange={(e) => run(api.patchOrder(o.id, { status: e.target.value }), put)}
            >
              {Array.from(new Set(["new", "paid", "shipped", "delivered", "cancelled", o.status])).map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </li>
        ))}
      </ul>
      {adding ? (
        <form onSubmit={add} className="stack">
          <input name="number" placeholder={t.side.orderNumber} required />
          <input name="total" placeholder={t.side.orderTotal} inputMode="decimal" />
          <input name="currency" placeholder="EUR" maxLength={3} />
          <div>
            <button type="submit">{t.save}</button>
            <button type="button" onClick={() => setAdding(false)}>
              {t.cancel}
            </button>
          </div>
        </form>
      ) : (
        <button type="button" className="link" onClick={() => setAdding(true)}>
          {t.side.addOrder}
        </button>
      )}
      <ErrorLine error={error} />
    </section>
  );
}

function Notes({ bundle }: { bundle: Bundle }) {
  const qc = useQueryClient();
  const [text, setText] = useState("");
  const { error, run } = useActionError();
  function add(e: FormEvent) {
    e.preventDefault();
    if (!text.trim()) return;
    run(api.addNote(bundle.conversation.id, text.trim()), (note) => {
      addNote(qc, note);
      setText("");
    });
  }
  return (
    <section>
      <h3>{t.side.notes}</h3>
      {bundle.notes.length === 0 && <p className="muted">{t.side.noNotes}</p>}
      <ul className="notes">
        {bundle.notes.map((n) => (
          <li key={n.id} className="note">
            <p>{n.body}</p>
            <small>
              {n.author_name} · {new Date(n.created_at).toLocaleString()}
            </small>
          </li>
        ))}
      </ul>
      <form onSubmit={add}>
        <textarea value={text} onChange={(e) => setText(e.target.value)} placeholder={t.side.addNote} aria-label={t.side.addNote} />
        <button type="submit">{t.save}</button>
      </form>
      <ErrorLine error={error} />
    </section>
  );
}
