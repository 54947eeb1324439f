// A manager's change to a conversation (status, snooze, assignee, archive, a label), the one
// way every control makes it: the lists, header and counts move at once, the server's answer
// settles it, and a refusal puts the earlier state back.

import type { QueryClient } from "@tanstack/react-query";

import { api } from "../api/client";
import type { Conversation } from "../api/types";
import { changeConversation } from "./cache";

export type ConversationChanges = Parameters<typeof api.patch>[1];

/** Show `after` everywhere, then the answer of `request`; on an error, `before` again (and the
 * error is thrown for the caller to show). */
async function optimistic(
  qc: QueryClient,
  before: Conversation,
  after: Conversation,
  request: Promise<Conversation>,
  me: number,
): Promise<Conversation> {
  changeConversation(qc, after, me);
  try {
    const answer = await request;
    changeConversation(qc, answer, me);
    return answer;
  } catch (e) {
    changeConversation(qc, before, me);
    throw e;
  }
}

/** Apply `changes` to `before` everywhere, then the answer. */
export function patchConversation(qc: QueryClient, before: Conversation, changes: ConversationChanges, me: number): Promise<Conversation> {
  return optimistic(qc, before, { ...before, ...changes } as Conversation, api.patch(before.id, changes), me);
}

/** Put a label on the conversation (`on`) or take it off. */
export function labelConversation(qc: QueryClient, before: Conversation, labelId: number, on: boolean, me: number): Promise<Conversation> {
  const label_ids = on ? [...before.label_ids.filter((id) => id !== labelId), labelId] : before.label_ids.filter((id) => id !== labelId);
  const request = on ? api.labelConversation(before.id, labelId) : api.unlabelConversation(before.id, labelId);
  return optimistic(qc, before, { ...before, label_ids }, request, me);
}
