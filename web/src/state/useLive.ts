// The live connection of this tab: every frame goes into the cache in place; the tab counts
// follow a moment later when a frame is about a conversation this page never saw.

import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";

import type { LiveFrame, Message } from "../api/types";
import { LiveConnection, type LiveState } from "../live/socket";
import { t } from "../strings";
import { applyFrame, keys, resync } from "./cache";

export function useLive(me: number, notify: boolean): LiveState {
  const qc = useQueryClient();
  const [live, setLive] = useState<LiveState>("connecting");
  const notifyRef = useRef(notify);
  notifyRef.current = notify;
  useEffect(() => {
    let countsTimer: ReturnType<typeof setTimeout> | null = null;
    let viewsTimer: ReturnType<typeof setTimeout> | null = null;
    const connection = new LiveConnection({
      state: setLive,
      // Signed out elsewhere (the login shows) or given other rights (every view loads again).
      ended: () => void resync(qc),
      frame: (frame: LiveFrame) => {
        const outcome = applyFrame(qc, frame, me);
        if (outcome.resync) {
          void resync(qc);
          return;
        }
        if (outcome.countsStale) {
          if (countsTimer) clearTimeout(countsTimer);
          countsTimer = setTimeout(() => void qc.invalidateQueries({ queryKey: keys.counts }), 400);
        }
        // A conversation new here may be in a view too; a view saved elsewhere brings no count.
        if (outcome.countsStale || outcome.viewsStale) {
          if (viewsTimer) clearTimeout(viewsTimer);
          viewsTimer = setTimeout(() => void qc.invalidateQueries({ queryKey: keys.views }), 400);
        }
        if (frame.type === "message.created") {
          const message = frame.data as Message;
          if (message.direction === "in" && notifyRef.current && document.hidden) {
            new Notification(message.sender.name ?? t.appTitle, { body: message.body ?? "", tag: `c${message.conversation_id}` });
          }
        }
      },
    });
    connection.start();
    return () => {
      connection.stop();
      if (countsTimer) clearTimeout(countsTimer);
      if (viewsTimer) clearTimeout(viewsTimer);
    };
  }, [qc, me]);
  return live;
}
