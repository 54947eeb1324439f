import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";

import { api, ApiError, setCsrfToken } from "../api/client";
import { keys } from "../state/cache";
import { useMe } from "../state/hooks";
import { t } from "../strings";
import { Inbox } from "./Inbox";
import { ErrorLine } from "./ErrorLine";

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
  return <Inbox me={me.data.manager} />;
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
          <input
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <ErrorLine error={error} />
        <button type="submit" disabled={busy}>
          {busy ? t.login.busy : t.login.submit}
        </button>
      </form>
    </main>
  );
}
