import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent, type ReactNode } from "react";

import { api } from "../api/client";
import type { Manager, Token } from "../api/types";
import { moment } from "../format";
import { keys } from "../state/cache";
import { t } from "../strings";
import { ConfirmButton } from "./Confirm";
import { ErrorLine, useActionError } from "./ErrorLine";
import { QuickReplySettings } from "./QuickReplySettings";

const TOKENS = ["tokens"] as const;

/** The signed-in manager's own account: their name, their password, their API tokens. */
export function Account({ me }: { me: Manager }) {
  return (
    <main className="team account">
      <h2>{t.account.title}</h2>
      <NameForm me={me} />
      <PasswordForm />
      <Tokens />
      <QuickReplySettings personal />
    </main>
  );
}

/** One of the account's forms: sends what it holds, says when it is done, or what is wrong. */
function AccountForm<T>({
  send,
  submit,
  done,
  children,
}: {
  send: (form: FormData) => Promise<T>;
  submit: string;
  done: string;
  children: ReactNode;
}) {
  const { error, run } = useActionError();
  const [saved, setSaved] = useState(false);
  return (
    <form
      noValidate
      className="stack narrow"
      onSubmit={(e: FormEvent<HTMLFormElement>) => {
        e.preventDefault();
        const el = e.currentTarget;
        setSaved(false);
        run(send(new FormData(el)), () => {
          if (el.querySelector("input[type=password]")) el.reset();
          setSaved(true);
        });
      }}
    >
      {children}
      <button type="submit">{submit}</button>
      {saved && <p role="status">{done}</p>}
      <ErrorLine error={error} />
    </form>
  );
}

function NameForm({ me }: { me: Manager }) {
  const qc = useQueryClient();
  const send = async (form: FormData) => {
    const answer = await api.changeMe({ name: String(form.get("name") ?? "").trim() });
    qc.setQueryData(keys.me, answer);
    void qc.invalidateQueries({ queryKey: keys.team });
    return answer;
  };
  return (
    <AccountForm send={send} submit={t.account.saveName} done={t.account.saved}>
      <label>
        {t.account.name}
        <input name="name" defaultValue={me.name} required maxLength={200} />
      </label>
    </AccountForm>
  );
}

function PasswordForm() {
  const send = (form: FormData) => api.changeMe({ current_password: String(form.get("current")), password: String(form.get("password")) });
  return (
    <AccountForm send={send} submit={t.account.savePassword} done={t.account.passwordSaved}>
      <h3>{t.account.password}</h3>
      <label>
        {t.account.current}
        <input name="current" type="password" required autoComplete="current-password" />
      </label>
      <label>
        {t.account.newPassword}
        <input name="password" type="password" required minLength={8} autoComplete="new-password" />
      </label>
    </AccountForm>
  );
}

function Tokens() {
  const qc = useQueryClient();
  const tokens = useQuery({ queryKey: TOKENS, queryFn: api.tokens });
  const { error, run } = useActionError();
  const [made, setMade] = useState<string | null>(null);
  const put = (change: (items: Token[]) => Token[]) => qc.setQueryData<{ items: Token[] }>(TOKENS, (d) => (d ? { items: change(d.items) } : d));
  return (
    <section>
      <h3>{t.account.tokens}</h3>
      <p className="muted">{t.account.tokensHelp}</p>
      <ul className="tokens">
        {(tokens.data?.items ?? []).map((token) => (
          <li key={token.id} data-token={token.id}>
            <strong>{token.label ?? "—"}</strong>{" "}
            <span className="muted small">
              {t.account.made(moment(token.created_at))}
              {token.expires_at ? ` · ${t.account.expires(moment(token.expires_at))}` : ""}
            </span>{" "}
            <ConfirmButton
              className="link"
              question={t.account.revokeQuestion}
              confirm={t.account.revoke}
              onConfirm={() => run(api.deleteToken(token.id), () => put((items) => items.filter((x) => x.id !== token.id)))}
            >
              {t.account.revoke}
            </ConfirmButton>
          </li>
        ))}
      </ul>
      {made && (
        <p role="status" className="new-token">
          {t.account.copyNow} <code>{made}</code>
        </p>
      )}
      <form
        noValidate
        className="stack narrow"
        onSubmit={(e: FormEvent<HTMLFormElement>) => {
          e.preventDefault();
          const el = e.currentTarget;
          const form = new FormData(el);
          const days = Number(form.get("days") || 0);
          run(api.createToken(String(form.get("label")), String(form.get("password")), days > 0 ? days : null), (answer) => {
            setMade(answer.token);
            el.reset();
            void qc.invalidateQueries({ queryKey: TOKENS });
          });
        }}
      >
        <label>
          {t.account.label}
          <input name="label" required maxLength={100} />
        </label>
        <label>
          {t.account.days}
          <input name="days" type="number" min={1} max={3650} inputMode="numeric" />
        </label>
        <label>
          {t.account.confirmPassword}
          <input name="password" type="password" required autoComplete="current-password" />
        </label>
        <button type="submit">{t.account.makeToken}</button>
      </form>
      <ErrorLine error={error} />
    </section>
  );
}
