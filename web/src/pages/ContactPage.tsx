import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { Link, useNavigate, useParams } from "react-router";

import { api } from "../api/client";
import type { ContactDetail } from "../api/types";
import { ContactAttributes } from "../components/ContactAttributes";
import { ContactMerges } from "../components/ContactMerges";
import { ContactTimeline } from "../components/ContactTimeline";
import { Row } from "../components/ConversationRow";
import { ErrorLine, useActionError } from "../components/ErrorLine";
import { LabelChips, LabelPopover } from "../components/Labels";
import { useSeveralNumbers } from "../components/NumberBadge";
import { amount, colourFor, day, initials } from "../format";
import { paths } from "../routes";
import { keys } from "../state/cache";
import { setContactLabels } from "../state/teamCache";
import { useContact, useTeam } from "../state/hooks";
import { t } from "../strings";

function Owner({ contact }: { contact: ContactDetail }) {
  const qc = useQueryClient();
  const team = useTeam().data?.items ?? [];
  const { error, run } = useActionError();
  const change = (value: string) =>
    run(api.patchContact(contact.id, { owner_id: value ? Number(value) : null }), (updated) => {
      qc.setQueryData(keys.contact(contact.id), updated);
      void qc.invalidateQueries({ queryKey: keys.contactLists });
    });
  return (
    <label className="owner">
      {t.contacts.owner}{" "}
      <select value={contact.owner_id ?? ""} onChange={(e) => change(e.target.value)}>
        <option value="">{t.contacts.noOwner}</option>
        {/* A former colleague stays shown as the owner until someone else is chosen. */}
        {contact.owner_id !== null && !team.some((m) => m.id === contact.owner_id) && <option value={contact.owner_id}>{contact.owner_name}</option>}
        {team.map((m) => (
          <option key={m.id} value={m.id}>
            {m.name}
          </option>
        ))}
      </select>
      <ErrorLine error={error} />
    </label>
  );
}

/** The contact's labels, put on and taken off here (the server's answer is what shows). */
function ContactLabels({ contact }: { contact: ContactDetail }) {
  const qc = useQueryClient();
  const { error, run } = useActionError();
  const toggle = (id: number, on: boolean) =>
    run(on ? api.labelContact(contact.id, id) : api.unlabelContact(contact.id, id), (answer) => setContactLabels(qc, contact.id, answer.label_ids));
  return (
    <div className="contact-labels">
      <LabelChips ids={contact.label_ids} max={10} />
      <LabelPopover button={t.labels.button} title={t.labels.title} selected={contact.label_ids} onToggle={toggle} />
      <ErrorLine error={error} />
    </div>
  );
}

/** One customer: who they are, every number they have had, all their conversations on every
 * number (each opens in the inbox), and their orders. One request: the server sends it all. */
export function ContactPage() {
  const id = Number(useParams().id);
  const navigate = useNavigate();
  const contact = useContact(id);
  const several = useSeveralNumbers();
  const c = contact.data;
  // A merged contact's old address answers with the contact it became: show that one's.
  useEffect(() => {
    if (c && c.id !== id) navigate(paths.contact(c.id), { replace: true });
  }, [c, id, navigate]);
  if (contact.isPending) return <main className="contact-page" aria-busy="true" />;
  if (!c)
    return (
      <main className="contact-page">
        <p className="empty">{t.contacts.gone}</p>
        <Link to={paths.contacts}>{t.contacts.back}</Link>
      </main>
    );
  return (
    <main className="contact-page" aria-label={c.name}>
      <Link to={paths.contacts}>← {t.contacts.back}</Link>
      <header className="contact-head">
        <span className="avatar large" style={{ background: colourFor(c.id) }} aria-hidden="true">
          {initials(c.name)}
        </span>
        <h2>{c.name}</h2>
        <ContactLabels contact={c} />
        <Owner contact={c} />
      </header>
      <section>
        <dl>
          <dt>{t.side.phone}</dt>
          <dd>{c.phone ?? "—"}</dd>
          <dt>{t.side.email}</dt>
          <dd>{c.email ? <a href={`mailto:${c.email}`}>{c.email}</a> : "—"}</dd>
          <ContactAttributes contact={c} />
        </dl>
      </section>
      {c.phones.length > 1 && (
        <section>
          <h3>{t.contacts.numbers}</h3>
          <ul className="phones">
            {c.phones.map((p) => (
              <li key={p.phone}>
                {p.phone} <span className="muted">{t.contacts.since(day(p.first_seen), day(p.last_seen))}</span>
              </li>
            ))}
          </ul>
        </section>
      )}
      <section>
        <h3>{t.contacts.chats}</h3>
        {c.conversations.length === 0 && <p className="muted">{t.contacts.noChats}</p>}
        <div className="contact-chats">
          {c.conversations.map((conversation) => (
            <Row
              key={conversation.id}
              conversation={conversation}
              active={false}
              onOpen={(cid) => navigate(paths.conversation(cid))}
              assignee={conversation.assignee_name ?? undefined}
              numbers={several}
            />
          ))}
        </div>
      </section>
      <ContactTimeline contact={c} />
      <ContactMerges contact={c} />
      <section>
        <h3>{t.side.orders}</h3>
        {c.orders.length === 0 && <p className="muted">{t.side.noOrders}</p>}
        <ul className="orders">
          {c.orders.map((o) => (
            <li key={o.id} data-order={o.id}>
              #{o.number} · {amount(o.total)} {o.currency} · {o.status}
            </li>
          ))}
        </ul>
      </section>
    </main>
  );
}
