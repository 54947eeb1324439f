import { useEffect } from "react";
import { useNavigate } from "react-router";

import type { Conversation } from "../api/types";
import { paths } from "../routes";

/**
 * A conversation the bridge merged into another (its room tombstoned into the customer's other
 * chat) is that one now: its messages are there. Open it in place of this address, also when
 * the merge happens while the thread is open.
 */
export function useFollowMerge(conversation: Conversation | undefined) {
  const navigate = useNavigate();
  const into = conversation?.merged_into;
  useEffect(() => {
    if (into != null) navigate(paths.conversation(into), { replace: true });
  }, [into, navigate]);
}
