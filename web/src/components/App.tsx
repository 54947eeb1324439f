import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, lazy, type ReactNode, Suspense, useEffect, useState } from "react";
import { Navigate, Route, Routes } from "react-router";

import { api, ApiError, setCsrfToken } from "../api/client";
import type { Manager } from "../api/types";
import { InboxPage } from "../pages/InboxPage";
import { paths } from "../routes";
import { keys } from "../state/cache";
import { useMe } from "../state/hooks";
import { t } from "../strings";
import { ErrorLine } from "./ErrorLine";
import { Shell } from "./Shell";

// The pages beside the inbox load when first opened: their code (and the QR code library of
// Team → WhatsApp) is not part of what every manager's inbox downloads.
const Team = lazy(() => import("./Team").then((m) => ({ default: m.Team })));
const Account = lazy(() => import("./Account").then((m) => ({ default: m.Account })));
const ContactsPage = lazy(() => import("../pages/ContactsPage").then((m) => ({ default: m.ContactsPage })));
const DealsPage = lazy(() => import("../pages/DealsPage").then((m) => ({ default: m.DealsPage })));
const ContactPage = lazy(() => import("../pages/ContactPage").then((m) => ({ default: m.ContactPage })));

function Page({ children }: { children: ReactNode }) {
  return <Suspense fallback={<main className="team" aria-busy="true" />}>{children}</Suspense>;
}

/** Every page's address (routes.ts): the inbox at / and /conversations/<id> (one page, so
 * opening a conversation keeps the list as it is), the contacts and each contact's page, Team
 * for admins, the manager's account. */
function Pages({ me }: { me: Manager }) {
  return (
    <Routes>
      <Route element={<Shell me={me} />}>
        <Route path={paths.inbox} element={<InboxPage />}>
          <Route index element={null} />
          <Route path={paths.conversationPattern} element={null} />
        </Route>
        <Route
          path={paths.team}
          element={
            me.role === "admin" ? (
              <Page>
                <Team me={me} />
              </Page>
            ) : (
              <Navigate to={paths.inbox} replace />
            )
          }
        />
        <Route
          path={paths.contacts}
          element={
            <Page>
              <ContactsPage admin={me.role === "admin"} />
            </Page>
          }
        />
        <Route
          path={paths.deals}
          element={
            <Page>
              <DealsPage />
            </Page>
          }
        />
        <Route
          path={paths.contactPattern}
          element={
            <Page>
              <ContactPage />
            </Page>
          }
        />
        <Route
          path={paths.account}
          element={
            <Page>
              <Account me={me} />
            </Page>
          }
        />
        <Route path="*" element={<Navigate to={paths.inbox} replace />} />
      </Route>
    </Routes>
  );
}

export function App() {
  const me = useMe();
  useEffect(() => {
    if (me.data) setCsrfToken(me.data.csrf_token);
  }, [me.data]);
  if (me.isPending) return <div className="splash" aria-busy="true" />;
  if (me.error) {
    if (me.error instanceof ApiError && me.error.status === 401) return <Login />;
    return <div className="splash error">{me.error.message}</div>;
  }
  return <Pages me={me.data.manager} />;
}

function Login() {
  const qc = useQueryClient();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await api.login(email, password);
      setCsrfToken(answer.csrf_token);
      qc.setQueryData(keys.me, answer);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="login">
      <form noValidate onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">{t.login.title}</h1>
        <label>
          {t.login.email}
          <input type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          {t.login.password}
          <input type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <ErrorLine error={error} />
        <button type="submit" disabled={busy}>
          {busy ? t.login.busy : t.login.submit}
        </button>
      </form>
    </main>
  );
}
