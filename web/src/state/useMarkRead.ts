// Opening a conversation with unread messages marks it read (its answer updates the list), and
// so does a message arriving while the manager looks at the thread's end in a visible tab
// (WhatsApp then shows the customer it was read); one arriving in a hidden tab, or while the
// manager reads history further up, stays unread until they come back to it.

import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef } from "react";

import { api } from "../api/client";
import { changeConversation } from "./cache";
import { usePageVisible } from "./hooks";

export function useMarkRead(id: number, me: number, unread: number, atBottom: boolean): void {
  const qc = useQueryClient();
  const visible = usePageVisible();
  const opened = useRef(false);
  const reading = useRef(false);
  useEffect(() => {
    if (unread === 0 || reading.current) return;
    if (opened.current && !(visible && atBottom)) return;
    opened.current = true;
    reading.current = true;
    void api
      .read(id)
      .then((c) => changeConversation(qc, c, me))
      .finally(() => {
        reading.current = false;
      });
  }, [unread, visible, atBottom, id, qc, me]);
}
