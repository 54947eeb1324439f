import { useEffect } from "react";

import { t } from "../strings";

/** An action just taken, and how to take it back. */
export interface Undoable {
  id: number;
  text: string;
  revert: () => void;
}

// Long enough to notice and reach for it; short enough not to sit over the inbox.
export const UNDO_MS = 8_000;

/** The last action taken with a single key, with its Undo, for a few seconds. */
export function UndoToast({ undo, onDone }: { undo: Undoable | null; onDone: () => void }) {
  useEffect(() => {
    if (!undo) return;
    const timer = setTimeout(onDone, UNDO_MS);
    return () => clearTimeout(timer);
  }, [undo, onDone]);
  if (!undo) return null;
  return (
    <div className="toast" role="status">
      <span>{undo.text}</span>
      <button
        type="button"
        onClick={() => {
          undo.revert();
          onDone();
        }}
      >
        {t.undo.action}
      </button>
    </div>
  );
}
