// Who may change a message, as the server decides it (crm_appservice/api/own_replies.py):
// managers their own replies sent from the inbox into the chat, admins anyone's; never an
// e-mail once written. Both follow the cases of test/change-rule-cases.json.

import type { Manager, Message, SavedView } from "./api/types";

function mayChange(m: Message, me: Manager): boolean {
  const fromInbox = m.direction === "out" && m.sender.type === "manager" && m.sender.id !== null;
  return fromInbox && (m.sender.id === me.id || me.role === "admin") && m.channel === "matrix";
}

/** Whether an edit would change the message: a text, not deleted. */
export function mayEdit(m: Message, me: Manager): boolean {
  return mayChange(m, me) && m.deleted_at === null && m.kind === "text";
}

/** Whether deleting would change the message (deleting it again changes nothing). */
export function mayDelete(m: Message, me: Manager): boolean {
  return mayChange(m, me) && m.deleted_at === null;
}

/** Whether the manager may change a saved view, as the server decides (api/views.py): their
 * own (the only personal ones they see), and as an admin the team's. */
export function mayChangeView(v: SavedView, me: Manager): boolean {
  return !v.shared || me.role === "admin";
}
