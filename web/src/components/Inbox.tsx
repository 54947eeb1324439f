import { useQueryClient } from "@tanstack/react-query";
import { Fragment, lazy, Suspense, useCallback, useEffect, useRef, useState } from "react";

import { api, type ListFilters } from "../api/client";
import type { Conversation, LiveFrame, Manager, Message } from "../api/types";
import { LiveConnection, type LiveState } from "../live/socket";
import { applyFrame, flatten, keys, knownConversation, resync, type Pages } from "../state/cache";
import { patchConversation, type ConversationChanges } from "../state/patch";
import { useCounts } from "../state/hooks";
import { t } from "../strings";
import { forgetLocalDrafts } from "./Composer";
import { ConversationList } from "./ConversationList";
import { SidePanel } from "./SidePanel";
import { Thread } from "./Thread";
import { UndoToast, type Undoable } from "./Undo";

// The conversations that need work: the open ones, which is what the tabs count. Pending,
// snoozed and resolved ones are one choice away in the status filter.
export const DEFAULT_FILTERS: ListFilters = {
  tab: "all",
  status: "open",
  platform: null,
  unread: false,
  archived: false,
  q: "",
};

// The pages beside the inbox load when first opened: their code (and the QR code library of
// Team → WhatsApp) is not part of what every manager's inbox downloads.
const Team = lazy(() => import("./Team").then((m) => ({ default: m.Team })));
const Account = lazy(() => import("./Account").then((m) => ({ default: m.Account })));

const NOTIFY_KEY = "crm.notify";
// Wide enough for the list, the thread and the contact's panel side by side (styles.css).
const WIDE = "(min-width: 1200px)";

type View = "inbox" | "team" | "account";
// The pages beside the inbox, each with its own address.
const PAGES: Record<string, View> = { "/team": "team", "/account": "account" };

function viewFromPath(): View {
  return PAGES[location.pathname] ?? "inbox";
}

function idFromPath(): number | null {
  const match = location.pathname.match(/^\/conversations\/(\d+)/);
  return match?.[1] ? Number(match[1]) : null;
}

function inInput(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
}

export function Inbox({ me }: { me: Manager }) {
  const qc = useQueryClient();
  useEffect(forgetLocalDrafts, []);
  const [filters, setFilters] = useState<ListFilters>(DEFAULT_FILTERS);
  const [selected, setSelected] = useState<number | null>(idFromPath);
  const [live, setLive] = useState<LiveState>("connecting");
  // The contact's panel sits beside the thread where there is room for both; on a narrower
  // screen it would cover the thread, so it opens only when asked for.
  const [panelOpen, setPanelOpen] = useState(() => typeof matchMedia === "undefined" || matchMedia(WIDE).matches);
  const [view, setViewState] = useState<View>(viewFromPath);
  // The Team page has its own address: a link to it, a reload and Back all work.
  const setView = (next: View) => {
    setViewState(next);
    const path = next !== "inbox" ? `/${next}` : selectedRef.current === null ? "/" : `/conversations/${selectedRef.current}`;
    if (location.pathname !== path) history.pushState(null, "", path);
  };
  const [help, setHelp] = useState(false);
  const helpRef = useRef(help);
  helpRef.current = help;
  // Desktop notifications: on once the browser allows them, until the manager turns them off
  // (kept in this browser, as the permission is).
  const [notify, setNotifyState] = useState(
    () => typeof Notification !== "undefined" && Notification.permission === "granted" && localStorage.getItem(NOTIFY_KEY) !== "off",
  );
  const setNotify = (on: boolean) => {
    setNotifyState(on);
    try {
      localStorage.setItem(NOTIFY_KEY, on ? "on" : "off");
    } catch {
      // storage blocked: the choice lasts as long as the page
    }
  };
  const searchRef = useRef<HTMLInputElement>(null);
  const filtersRef = useRef(filters);
  filtersRef.current = filters;
  const selectedRef = useRef(selected);
  selectedRef.current = selected;
  const notifyRef = useRef(notify);
  notifyRef.current = notify;

  // The message to bring into view in the conversation opened from a search hit.
  const [focus, setFocus] = useState<number | null>(null);
  const select = useCallback((id: number | null, message?: number) => {
    setFocus(message ?? null);
    setSelected(id);
    setViewState("inbox");
    const path = id === null ? "/" : `/conversations/${id}`;
    if (location.pathname !== path) history.pushState(null, "", path);
  }, []);

  useEffect(() => {
    const onPop = () => {
      setSelected(idFromPath());
      setViewState(viewFromPath());
    };
    addEventListener("popstate", onPop);
    return () => removeEventListener("popstate", onPop);
  }, []);

  // The live connection feeds the cache in place; counts follow a moment later.
  useEffect(() => {
    let countsTimer: ReturnType<typeof setTimeout> | null = null;
    const connection = new LiveConnection({
      state: setLive,
      // Signed out elsewhere (the login shows) or given other rights (every view loads again).
      ended: () => void resync(qc),
      frame: (frame: LiveFrame) => {
        const outcome = applyFrame(qc, frame, me.id);
        if (outcome.resync) {
          void resync(qc);
          return;
        }
        if (outcome.countsStale) {
          // A conversation this page never saw: the counts are fetched once things settle.
          if (countsTimer) clearTimeout(countsTimer);
          countsTimer = setTimeout(() => void qc.invalidateQueries({ queryKey: keys.counts }), 400);
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
    };
  }, [qc, me.id]);

  // Resolving with one key is easy to do by mistake: it is undone as easily, for a moment.
  const [undo, setUndo] = useState<Undoable | null>(null);
  const endUndo = useCallback(() => setUndo(null), []);
  const resolve = useCallback(
    (id: number) => {
      const before = knownConversation(qc, id);
      if (!before || before.status === "resolved") return;
      const resolved = patchConversation(qc, before, { status: "resolved" }, me.id);
      resolved.catch(() => undefined); // refused: the list shows it as it was
      const until = before.status === "snoozed" ? before.snoozed_until : null;
      const back: ConversationChanges = until && Date.parse(until) > Date.now()
        ? { status: "snoozed", snoozed_until: until }
        : { status: before.status === "snoozed" ? "open" : before.status };
      setUndo({
        id: Date.now(),
        text: t.undo.resolved(before.title ?? before.contact?.display_name ?? "—"),
        revert: () => void resolved.then((now) => patchConversation(qc, now, back, me.id)).catch(() => undefined),
      });
    },
    [qc, me.id],
  );

  // Keyboard: next/previous conversation, search, resolve, assign to me, close.
  useEffect(() => {
    const move = (step: number) => {
      const rows = flatten(qc.getQueryData<Pages<Conversation>>(keys.list(filtersRef.current)));
      if (rows.length === 0) return;
      const at = rows.findIndex((c) => c.id === selectedRef.current);
      const next = rows[Math.max(0, Math.min(rows.length - 1, at < 0 ? 0 : at + step))];
      if (next) select(next.id);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.altKey && (e.key === "ArrowDown" || e.key === "ArrowUp")) {
        e.preventDefault();
        move(e.key === "ArrowDown" ? 1 : -1);
        return;
      }
      if (e.key === "Escape") {
        if (inInput(e.target)) (e.target as HTMLElement).blur();
        else if (helpRef.current) setHelp(false);
        else setPanelOpen(false);
        return;
      }
      if (inInput(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
      const id = selectedRef.current;
      if (e.key === "j") move(1);
      else if (e.key === "k") move(-1);
      else if (e.key === "/") {
        e.preventDefault();
        searchRef.current?.focus();
      } else if (e.key === "e" && id !== null) resolve(id);
      else if (e.key === "a" && id !== null) {
        const before = knownConversation(qc, id);
        if (before) patchConversation(qc, before, { assignee_id: me.id }, me.id).catch(() => undefined);
      }
      else if (e.key === "?") setHelp((open) => !open);
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, [qc, select, me.id, resolve]);

  return (
    <div className={`app${view === "inbox" && selected !== null ? " thread-open" : ""}`}>
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
        {view !== "inbox" ? (
          <button type="button" onClick={() => setView("inbox")}>
            {t.backToInbox}
          </button>
        ) : (
          me.role === "admin" && (
            <button type="button" onClick={() => setView("team")}>
              {t.admin}
            </button>
          )
        )}
        <button type="button" className="icon-button" onClick={() => setHelp((open) => !open)} aria-label={t.shortcuts.open} title={t.shortcuts.open}>
          ?
        </button>
        <button type="button" className="me" title={t.account.open} onClick={() => setView(view === "account" ? "inbox" : "account")}>
          {me.name}
        </button>
        <button
          type="button"
          onClick={() =>
            void api.logout().then(() => {
              // Nothing of this manager's stays for whoever uses the browser next.
              qc.clear();
              forgetLocalDrafts();
              location.assign("/");
            })
          }
        >
          {t.logout}
        </button>
      </header>
      {help && <Shortcuts onClose={() => setHelp(false)} />}
      <UndoToast undo={undo} onDone={endUndo} />
      {view !== "inbox" ? (
        <Suspense fallback={<main className="team" aria-busy="true" />}>{view === "team" ? <Team me={me} /> : <Account me={me} />}</Suspense>
      ) : (
        <div className={`panes${selected === null ? " nothing-open" : ""}`}>
          <ConversationList filters={filters} setFilters={setFilters} selected={selected} select={select} me={me} searchRef={searchRef} />
          {selected === null ? (
            <section className="thread empty">{t.emptyThread}</section>
          ) : (
            <Thread key={`thread-${selected}`} id={selected} me={me} focus={focus} onBack={() => select(null)} togglePanel={() => setPanelOpen((o) => !o)} />
          )}
          {selected !== null && panelOpen && <SidePanel key={`side-${selected}`} id={selected} me={me} onClose={() => setPanelOpen(false)} />}
        </div>
      )}
    </div>
  );
}

/** What the keyboard does, over the inbox; a click anywhere or Esc closes it. */
function Shortcuts({ onClose }: { onClose: () => void }) {
  return (
    <div className="shortcuts" role="dialog" aria-label={t.shortcuts.title} onClick={onClose}>
      <div className="shortcuts-card">
        <h2>{t.shortcuts.title}</h2>
        <dl>
          {t.shortcuts.list.map(([keys, what]) => (
            <Fragment key={keys}>
              <dt>
                <kbd>{keys}</kbd>
              </dt>
              <dd>{what}</dd>
            </Fragment>
          ))}
        </dl>
      </div>
    </div>
  );
}

function UnreadTitle() {
  const counts = useCounts();
  const unread = counts.data?.unread ?? 0;
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) ${t.appTitle}` : t.appTitle;
  }, [unread]);
  return null;
}
