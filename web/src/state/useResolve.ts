// Resolving with one key is easy to do by mistake: it is undone as easily, for a moment.

import { useQueryClient } from "@tanstack/react-query";
import { useCallback, useState } from "react";

import { t } from "../strings";
import { knownConversation } from "./cache";
import { type ConversationChanges, patchConversation } from "./patch";
import type { Undoable } from "../components/Undo";

export function useResolve(me: number): { resolve: (id: number) => void; undo: Undoable | null; endUndo: () => void } {
  const qc = useQueryClient();
  const [undo, setUndo] = useState<Undoable | null>(null);
  const endUndo = useCallback(() => setUndo(null), []);
  const resolve = useCallback(
    (id: number) => {
      const before = knownConversation(qc, id);
      if (!before || before.status === "resolved") return;
      const resolved = patchConversation(qc, before, { status: "resolved" }, me);
      resolved.catch(() => undefined); // refused: the list shows it as it was
      const until = before.status === "snoozed" ? before.snoozed_until : null;
      const back: ConversationChanges =
        until && Date.parse(until) > Date.now()
          ? { status: "snoozed", snoozed_until: until }
          : { status: before.status === "snoozed" ? "open" : before.status };
      setUndo({
        id: Date.now(),
        text: t.undo.resolved(before.title ?? before.contact?.display_name ?? "—"),
        revert: () => void resolved.then((now) => patchConversation(qc, now, back, me)).catch(() => undefined),
      });
    },
    [qc, me],
  );
  return { resolve, undo, endUndo };
}
