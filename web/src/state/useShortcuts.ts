// The inbox's keyboard: next/previous conversation, search, resolve, assign to me, select, close.

import { type QueryClient, useQueryClient } from "@tanstack/react-query";
import { type RefObject, useEffect, useRef } from "react";

import type { ListFilters } from "../api/client";
import type { Conversation } from "../api/types";
import { flatten, keys, knownConversation, type Pages } from "./cache";
import { patchConversation } from "./patch";

export function inInput(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
}

export interface Shortcuts {
  me: number;
  filters: ListFilters;
  selected: number | null;
  /** The help is open: Esc is the help's (the shell closes it). */
  help: boolean;
  select: (id: number) => void;
  resolve: (id: number) => void;
  closePanel: () => void;
  search: RefObject<HTMLInputElement | null>;
  /** Tick a row for a change to many at once (`x`; with Shift, up to it). */
  pick: (id: number, range: boolean) => void;
}

function move(qc: QueryClient, s: Shortcuts, step: number): void {
  const rows = flatten(qc.getQueryData<Pages<Conversation>>(keys.list(s.filters)));
  if (rows.length === 0) return;
  const at = rows.findIndex((c) => c.id === s.selected);
  const next = rows[Math.max(0, Math.min(rows.length - 1, at < 0 ? 0 : at + step))];
  if (next) s.select(next.id);
}

export function useShortcuts(shortcuts: Shortcuts): void {
  const qc = useQueryClient();
  // The handler is added once and reads the latest state through the ref.
  const current = useRef(shortcuts);
  current.current = shortcuts;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const s = current.current;
      if (e.altKey && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
        e.preventDefault();
        move(qc, s, e.key === "ArrowDown" ? 1 : -1);
        return;
      }
      if (e.key === "Escape") {
        if (inInput(e.target)) (e.target as HTMLElement).blur();
        else if (!s.help) s.closePanel();
        return;
      }
      if (inInput(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
      const id = s.selected;
      if (e.key === "j") move(qc, s, 1);
      else if (e.key === "k") move(qc, s, -1);
      else if (e.key === "/") {
        e.preventDefault();
        s.search.current?.focus();
      } else if (e.key === "e" && id !== null) s.resolve(id);
      else if (e.key.toLowerCase() === "x" && id !== null) s.pick(id, e.shiftKey);
      else if (e.key === "a" && id !== null) {
        const before = knownConversation(qc, id);
        if (before) patchConversation(qc, before, { assignee_id: s.me }, s.me).catch(() => undefined);
      }
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, [qc]);
}
