// The composer's quick replies: which match what follows "/", and the cache kept in step with
// the answers of the settings' changes (no list is fetched again after an action).

import type { QueryClient } from "@tanstack/react-query";

import type { QuickReply } from "../api/types";
import type * as S from "../api/schema";
import { keys } from "./cache";

/** What "/" is followed by, while the composer holds only that (no space yet); else null. */
export function slashQuery(text: string): string | null {
  const found = /^\/(\S{0,32})$/.exec(text);
  return found ? (found[1] ?? "").toLowerCase() : null;
}

/** Shortcuts starting with the query first, then those whose shortcut, name or text has it;
 * each group in the server's order. */
export function matching(items: QuickReply[], query: string): QuickReply[] {
  const q = query.toLowerCase();
  if (!q) return items;
  const starts = items.filter((r) => r.shortcut.startsWith(q));
  const has = items.filter(
    (r) => !r.shortcut.startsWith(q) && (r.shortcut.includes(q) || r.name.toLowerCase().includes(q) || r.body.toLowerCase().includes(q)),
  );
  return [...starts, ...has];
}

/** A quick reply as the server answered a change of it (or its removal: its id), put in the
 * cached list where the server orders it (by shortcut, the team's first). */
export function putQuickReply(qc: QueryClient, changed: QuickReply | number) {
  qc.setQueryData<S.QuickReplyList>(keys.quickReplies, (list) => {
    if (!list) return list;
    const id = typeof changed === "number" ? changed : changed.id;
    const items = list.items.filter((r) => r.id !== id);
    if (typeof changed !== "number") {
      items.push(changed);
      items.sort((a, b) => a.shortcut.localeCompare(b.shortcut) || Number(a.personal) - Number(b.personal) || a.id - b.id);
    }
    return { ...list, items };
  });
}
