import { useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { api } from "../api/client";
import type { Bundle, Manager } from "../api/types";
import { moment } from "../format";
import { addNote, changeNote } from "../state/cache";
import { t } from "../strings";
import { ConfirmButton } from "./Confirm";
import { Editor } from "./Editor";
import { ErrorLine, useActionError } from "./ErrorLine";

/** The conversation's private notes: added here, changed or deleted by their author. */
export function Notes({ bundle, me }: { bundle: Bundle; me: Manager }) {
  const qc = useQueryClient();
  const [text, setText] = useState("");
  const [editing, setEditing] = useState<number | null>(null);
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
          <li key={n.id} className="note" data-note={n.id}>
            {editing === n.id ? (
              <Editor
                initial={n.body}
                onSave={(body) =>
                  run(api.editNote(n.id, body), (changed) => {
                    changeNote(qc, changed);
                    setEditing(null);
                  })
                }
                onCancel={() => setEditing(null)}
              />
            ) : (
              <p>{n.body}</p>
            )}
            <small>
              {n.author_name ?? t.formerColleague} · <time dateTime={n.created_at}>{moment(n.created_at)}</time>
              {n.edited_at && ` · ${t.edited}`}
            </small>
            {n.author_id === me.id && editing !== n.id && (
              <div className="note-actions">
                <button type="button" className="link" onClick={() => setEditing(n.id)}>
                  {t.edit}
                </button>
                <ConfirmButton
                  className="link"
                  question={t.side.deleteNote}
                  confirm={t.delete}
                  onConfirm={() => run(api.deleteNote(n.id), (gone) => changeNote(qc, gone))}
                >
                  {t.delete}
                </ConfirmButton>
              </div>
            )}
          </li>
        ))}
      </ul>
      <form noValidate onSubmit={add}>
        <textarea value={text} onChange={(e) => setText(e.target.value)} placeholder={t.side.addNote} aria-label={t.side.addNote} />
        <button type="submit">{t.save}</button>
      </form>
      <ErrorLine error={error} />
    </section>
  );
}
