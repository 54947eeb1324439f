import type { Note } from "../api/types";
import { clock } from "../format";
import { t } from "../strings";

/** A private note in the timeline: the team's, never sent, and drawn so nobody mistakes it. */
export function NoteRow({ note }: { note: Note }) {
  return (
    <div className="bubble-row note-row" role="note" aria-label={t.privateNote}>
      <div className="thread-note">
        <span className="note-label">
          {t.privateNote} · {note.author_name ?? t.you}
        </span>
        <div className="text">{note.body}</div>
        <div className="meta">
          {note.edited_at && <span className="edited">{t.edited}</span>}
          <time dateTime={note.created_at}>{clock(note.created_at)}</time>
        </div>
      </div>
    </div>
  );
}
