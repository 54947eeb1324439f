import { useQuery, useQueryClient } from "@tanstack/react-query";

import { api } from "../api/client";
import type { ContactDetail } from "../api/types";
import { moment } from "../format";
import { keys } from "../state/cache";
import { t } from "../strings";
import { ErrorLine, useActionError } from "./ErrorLine";

/** The contacts that look like this one's person (the server says why), each merged in with one
 * press; and the merges into this contact, each undone with one (when the server says this
 * manager may). */
export function ContactMerges({ contact }: { contact: ContactDetail }) {
  const qc = useQueryClient();
  const { error, run } = useActionError();
  const duplicates = useQuery({ queryKey: keys.duplicates(contact.id), queryFn: () => api.duplicates(contact.id), staleTime: 10_000 });
  const changed = (updated: ContactDetail) => {
    qc.setQueryData(keys.contact(updated.id), updated);
    void qc.invalidateQueries({ queryKey: keys.contactLists });
    void qc.invalidateQueries({ queryKey: keys.duplicates(contact.id) });
    void qc.invalidateQueries({ queryKey: keys.contact(contact.id) });
    void qc.invalidateQueries({ queryKey: keys.lists });
  };
  const found = duplicates.data?.items ?? [];
  return (
    <>
      {found.length > 0 && (
        <section className="duplicates" aria-label={t.merges.suggested}>
          <h3>{t.merges.suggested}</h3>
          <ul>
            {found.map((d) => (
              <li key={d.id} data-duplicate={d.id}>
                <span>
                  <strong>{d.name}</strong> {[d.phone, d.email].filter(Boolean).join(" · ")}{" "}
                  <span className="muted">({d.reasons.map((r) => t.merges.reason[r]).join(", ")})</span>
                </span>
                <button type="button" onClick={() => run(api.merge(contact.id, d.id), (out) => changed(out.contact))}>
                  {t.merges.merge}
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      {contact.merges.length > 0 && (
        <section aria-label={t.merges.history}>
          <h3>{t.merges.history}</h3>
          <ul>
            {contact.merges.map((m) => (
              <li key={m.id} data-merge={m.id}>
                {t.merges.merged(m.gone_name, m.merged_by_name, moment(m.merged_at))}
                {m.undone_at ? (
                  <span className="muted"> · {t.merges.undone}</span>
                ) : (
                  m.can_undo && (
                    <button type="button" className="link" onClick={() => run(api.undoMerge(m.id), (out) => changed(out.contact))}>
                      {t.merges.undo}
                    </button>
                  )
                )}
              </li>
            ))}
          </ul>
        </section>
      )}
      <ErrorLine error={error} />
    </>
  );
}
