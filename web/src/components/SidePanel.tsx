import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { api } from "../api/client";
import type { Bundle, Manager } from "../api/types";
import { keys } from "../state/cache";
import { useBundle } from "../state/hooks";
import { t } from "../strings";
import { ErrorLine, useActionError } from "./ErrorLine";
import { Icon } from "./Icon";
import { Notes } from "./Notes";
import { Orders } from "./Orders";
import { SideDeals } from "./SideDeals";

/** The contact, their orders and the conversation's notes: all from the bundle. */
export function SidePanel({ id, me, onClose }: { id: number; me: Manager; onClose: () => void }) {
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
      <SideDeals bundle={bundle.data} me={me.id} />
      <Orders bundle={bundle.data} />
      <Notes bundle={bundle.data} me={me} />
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
        <form noValidate onSubmit={save} className="stack">
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
