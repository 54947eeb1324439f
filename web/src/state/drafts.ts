// A manager's unsent reply, kept on the server (store/drafts.py).

import type { QueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useRef } from "react";

import { api } from "../api/client";
import type { Bundle } from "../api/types";
import { keys } from "./cache";

// Drafts are the manager's, kept on the server (a colleague signing in on this browser never
// sees them): saved a moment after typing stops, and at once when the composer goes away.
const DRAFT_DELAY_MS = 600;
// What earlier versions kept in this browser: removed, it was anyone's to read.
const OLD_DRAFT_PREFIX = "crm.draft.";

export function forgetLocalDrafts(): void {
  try {
    for (const key of Object.keys(localStorage)) if (key.startsWith(OLD_DRAFT_PREFIX)) localStorage.removeItem(key);
  } catch {
    // storage blocked: nothing was kept either
  }
}

/** Keep the composer's text as the manager's draft: debounced, flushed on leaving. */
export function useDraft(qc: QueryClient, conversationId: number, text: string): void {
  const saved = useRef(qc.getQueryData<Bundle>(keys.bundle(conversationId))?.draft ?? "");
  const pending = useRef<string | null>(null);
  const flush = useCallback(
    (keepalive = false) => {
      const body = pending.current;
      pending.current = null;
      if (body === null || body === saved.current) return;
      saved.current = body;
      qc.setQueryData<Bundle>(keys.bundle(conversationId), (b) => (b ? { ...b, draft: body || null } : b));
      api.saveDraft(conversationId, body, keepalive).catch(() => {
        saved.current = ""; // not kept: tried again with the next change
      });
    },
    [qc, conversationId],
  );
  useEffect(() => {
    if (text === saved.current && pending.current === null) return;
    pending.current = text;
    const timer = setTimeout(() => flush(), DRAFT_DELAY_MS);
    return () => clearTimeout(timer);
  }, [text, flush]);
  useEffect(() => {
    const leaving = () => flush(true);
    addEventListener("pagehide", leaving);
    return () => {
      removeEventListener("pagehide", leaving);
      flush(true);
    };
  }, [flush]);
}
