import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { Outlet, useLocation, useMatch, useNavigate, useOutletContext } from "react-router";

import { api, type ListFilters } from "../api/client";
import type { Manager } from "../api/types";
import { paths } from "../routes";
import { forgetLocalDrafts } from "../state/drafts";
import { DEFAULT_FILTERS } from "../state/filters";
import { useLive } from "../state/useLive";
import { useNotify } from "../state/useNotify";
import { inInput } from "../state/useShortcuts";
import { t } from "../strings";
import { Shortcuts, UnreadTitle } from "./Shortcuts";

/** What every page inside the shell may use: the list's filters outlive a visit to Team. */
export interface ShellContext {
  me: Manager;
  filters: ListFilters;
  setFilters: (filters: ListFilters) => void;
  help: boolean;
}

export function useShell(): ShellContext {
  return useOutletContext<ShellContext>();
}

/** The signed-in frame of every page: the top bar, the live connection, the keyboard's help. */
export function Shell({ me }: { me: Manager }) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const { pathname } = useLocation();
  useEffect(forgetLocalDrafts, []);
  const [notify, setNotify] = useNotify();
  const live = useLive(me.id, notify);
  const [filters, setFilters] = useState<ListFilters>(DEFAULT_FILTERS);
  const [help, setHelp] = useState(false);
  // The inbox's two addresses, matched by the routes' own patterns (routes.ts).
  const threadOpen = useMatch(paths.conversationPattern) !== null;
  const listOnly = useMatch(paths.inbox) !== null;
  const inInbox = threadOpen || listOnly;
  // "Back to inbox" returns to the conversation the manager had open.
  const lastInbox = useRef<string>(paths.inbox);
  if (inInbox) lastInbox.current = pathname;

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (inInput(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === "?") setHelp((open) => !open);
      else if (e.key === "Escape") setHelp(false);
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, []);

  const logout = () =>
    void api.logout().then(() => {
      // Nothing of this manager's stays for whoever uses the browser next.
      qc.clear();
      forgetLocalDrafts();
      location.assign(paths.inbox);
    });

  return (
    <div className={`app${threadOpen ? " thread-open" : ""}`}>
      <UnreadTitle />
      {live !== "open" && (
        <div className="banner" role="status">
          {t.reconnecting}
        </div>
      )}
      <header className="topbar">
        <strong>{t.appTitle}</strong>
        <span className="spacer" />
        {typeof Notification !== "undefined" &&
          (notify ? (
            <button type="button" aria-pressed="true" title={t.notificationsOff} onClick={() => setNotify(false)}>
              {t.notificationsOn}
            </button>
          ) : (
            <button type="button" aria-pressed="false" onClick={() => void Notification.requestPermission().then((p) => setNotify(p === "granted"))}>
              {t.notifications}
            </button>
          ))}
        {pathname !== paths.deals && (
          <button type="button" onClick={() => navigate(paths.deals)}>
            {t.deals.open}
          </button>
        )}
        {pathname !== paths.contacts && (
          <button type="button" onClick={() => navigate(paths.contacts)}>
            {t.contacts.open}
          </button>
        )}
        {!inInbox ? (
          <button type="button" onClick={() => navigate(lastInbox.current)}>
            {t.backToInbox}
          </button>
        ) : (
          me.role === "admin" && (
            <button type="button" onClick={() => navigate(paths.team)}>
              {t.admin}
            </button>
          )
        )}
        <button type="button" className="icon-button" onClick={() => setHelp((open) => !open)} aria-label={t.shortcuts.open} title={t.shortcuts.open}>
          ?
        </button>
        <button
          type="button"
          className="me"
          title={t.account.open}
          onClick={() => navigate(pathname === paths.account ? lastInbox.current : paths.account)}
        >
          {me.name}
        </button>
        <button type="button" onClick={logout}>
          {t.logout}
        </button>
      </header>
      {help && <Shortcuts onClose={() => setHelp(false)} />}
      <Outlet context={{ me, filters, setFilters, help } satisfies ShellContext} />
    </div>
  );
}
