import { useEffect, useMemo, useState } from "react";
import { useNavigate } from "react-router";

import type { ContactFilters } from "../api/client";
import type { ContactRow } from "../api/types";
import { api } from "../api/client";
import { AttributeFilters } from "../components/AttributeFilters";
import { ContactImport } from "../components/ContactImport";
import { InfiniteRows, RowsLoading } from "../components/InfiniteRows";
import { LabelChips, LabelFilter } from "../components/Labels";
import { NumberSelect } from "../components/NumberBadge";
import { OwnerSelect } from "../components/OwnerSelect";
import { colourFor, initials, listTime } from "../format";
import { paths } from "../routes";
import { useContacts } from "../state/hooks";
import { t } from "../strings";

export const NO_CONTACT_FILTERS: ContactFilters = { q: "", sort: "name", owner: "", number: "", attributes: [], labels: [] };

function Row({ contact: c, onOpen }: { contact: ContactRow; onOpen: (id: number) => void }) {
  return (
    <button type="button" className="row contact-row" data-contact={c.id} onClick={() => onOpen(c.id)}>
      <span className="avatar" style={{ background: colourFor(c.id) }} aria-hidden="true">
        {initials(c.name)}
      </span>
      <span className="row-main">
        <span className="row-top">
          <span className="name">{c.name}</span>
          <LabelChips ids={c.label_ids} max={3} />
          <time className="time" title={t.contacts.lastMessage}>
            {listTime(c.last_message_at)}
          </time>
        </span>
        <span className="row-bottom">
          <span className="preview">{[c.phone, c.email].filter(Boolean).join(" · ")}</span>
          <span className="muted">{t.contacts.conversations(c.conversation_count)}</span>
          {c.owner_name && (
            <span className="assignee" title={`${t.contacts.owner}: ${c.owner_name}`}>
              {initials(c.owner_name)}
            </span>
          )}
        </span>
      </span>
    </button>
  );
}

/** Every contact, by name or newest first, in a virtualised list that loads its next page as it
 * ends; found by any part of a name, a number, an e-mail address or an attribute. */
export function ContactsPage({ admin }: { admin: boolean }) {
  const navigate = useNavigate();
  const [filters, setFilters] = useState<ContactFilters>(NO_CONTACT_FILTERS);
  const [query, setQuery] = useState("");
  const list = useContacts(filters);
  const [importing, setImporting] = useState(false);
  // Clearing the filters starts the attribute filters' chips afresh too.
  const [cleared, setCleared] = useState(0);
  const rows = useMemo(() => list.data?.pages.flatMap((p) => p.items) ?? [], [list.data]);

  // The search runs a moment after typing stops, not on every key.
  useEffect(() => {
    if (query === filters.q) return;
    const timer = setTimeout(() => setFilters((f) => ({ ...f, q: query })), 250);
    return () => clearTimeout(timer);
  }, [query, filters.q]);

  const open = (id: number) => navigate(paths.contact(id));
  const set = (change: Partial<ContactFilters>) => setFilters((f) => ({ ...f, ...change }));
  return (
    <main className="contacts" aria-label={t.contacts.title}>
      <div className="contacts-bar">
        <h2>{t.contacts.title}</h2>
        <input
          type="search"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          placeholder={t.contacts.search}
          aria-label={t.contacts.search}
        />
        <select aria-label={t.contacts.sort} value={filters.sort} onChange={(e) => set({ sort: e.target.value as ContactFilters["sort"] })}>
          <option value="name">{t.contacts.byName}</option>
          <option value="newest">{t.contacts.newest}</option>
        </select>
        <OwnerSelect value={filters.owner} onChange={(owner) => set({ owner })} />
        <NumberSelect value={filters.number} onChange={(number) => set({ number })} />
        <LabelFilter selected={filters.labels} onChange={(labels) => set({ labels })} />
        <a className="button" href={api.exportUrl(filters)} download>
          {t.export}
        </a>
        {admin && !importing && (
          <button type="button" onClick={() => setImporting(true)}>
            {t.imports.open}
          </button>
        )}
        <AttributeFilters key={cleared} onChange={(attributes) => set({ attributes })} />
      </div>
      {importing && <ContactImport onClose={() => setImporting(false)} />}
      {list.isPending ? (
        <RowsLoading />
      ) : list.error ? (
        <p className="empty error">{list.error.message}</p>
      ) : rows.length === 0 ? (
        <p className="empty">
          {t.contacts.empty}
          {" — "}
          <button
            type="button"
            className="link"
            onClick={() => {
              setQuery("");
              setFilters(NO_CONTACT_FILTERS);
              setCleared((n) => n + 1);
            }}
          >
            {t.contacts.clear}
          </button>
        </p>
      ) : (
        <InfiniteRows rows={rows} pages={list} row={(c) => <Row contact={c} onOpen={open} />} />
      )}
    </main>
  );
}
