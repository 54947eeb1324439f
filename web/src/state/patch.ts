// A manager's change to a conversation (status, snooze, assignee, archive), the one way every
// control makes it: the lists, header and counts move at once, the server's answer settles it,
// and a refusal puts the earlier state back.

import type { QueryClient } from "@tanstack/react-query";

import { api } from "../api/client";
import type { Conversation } from "../api/types";
import { changeConversation } from "./cache";

export type ConversationChanges = Parameters<typeof api.patch>[1];

/** Apply `changes` to `before` everywhere, then the answer; on an error, `before` again (and
 * the error is thrown for the caller to show). */
export async function patchConversation(qc: QueryClient, before: Conversation, changes: ConversationChanges, me: number): Promise<Conversation> {
  changeConversation(qc, { ...before, ...changes } as Conversation, me);
  try {
    const answer = await api.patch(before.id, changes);
    changeConversation(qc, answer, me);
    return answer;
  } catch (e) {
    changeConversation(qc, before, me);
    throw e;
  }
}
