import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { api } from "../api/client";
import type { Manager, ManagerAdmin } from "../api/types";
import { keys } from "../state/cache";
import { t } from "../strings";
import { AttributeSettings } from "./AttributeSettings";
import { LabelSettings } from "./LabelSettings";
import { PipelineSettings } from "./PipelineSettings";
import { QuickReplySettings } from "./QuickReplySettings";
import { ConfirmButton } from "./Confirm";
import { WhatsApp } from "./WhatsApp";
import { ErrorLine, useActionError } from "./ErrorLine";

/** An admin sets a new password for a colleague who lost theirs. */
function ResetPassword({ name, onReset }: { name: string; onReset: (password: string, done: () => void) => void }) {
  const [open, setOpen] = useState(false);
  const [done, setDone] = useState(false);
  if (!open) {
    return (
      <>
        <button
          type="button"
          onClick={() => {
            setOpen(true);
            setDone(false);
          }}
        >
          {t.team.resetPassword}
        </button>
        {done && <span role="status"> {t.team.passwordReset(name)}</span>}
      </>
    );
  }
  return (
    <form
      noValidate
      className="inline-form"
      onSubmit={(e: FormEvent<HTMLFormElement>) => {
        e.preventDefault();
        const password = String(new FormData(e.currentTarget).get("password"));
        onReset(password, () => {
          setOpen(false);
          setDone(true);
        });
      }}
    >
      <input
        name="password"
        type="password"
        aria-label={t.team.newPassword}
        placeholder={t.team.newPassword}
        minLength={8}
        required
        autoComplete="new-password"
        // biome-ignore lint/a11y/noAutofocus: a form the manager just opened: typing goes to its first field
        autoFocus
      />
      <button type="submit">{t.save}</button>
      <button type="button" onClick={() => setOpen(false)}>
        {t.cancel}
      </button>
    </form>
  );
}

/** Admins: the managers, add one, change a role, reset a password, deactivate or activate. */
export function Team({ me }: { me: Manager }) {
  const qc = useQueryClient();
  const managers = useQuery({ queryKey: ["managers"], queryFn: api.managers });
  const { error, run } = useActionError();
  const put = (m: ManagerAdmin) => {
    qc.setQueryData<{ items: ManagerAdmin[] }>(["managers"], (d) =>
      d ? { items: d.items.some((x) => x.id === m.id) ? d.items.map((x) => (x.id === m.id ? m : x)) : [...d.items, m] } : d,
    );
    void qc.invalidateQueries({ queryKey: keys.team });
  };

  function add(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const el = e.currentTarget;
    const form = new FormData(el);
    const manager = {
      email: String(form.get("email")),
      name: String(form.get("name")),
      password: String(form.get("password")),
      role: form.get("role") === "admin" ? ("admin" as const) : ("manager" as const),
    };
    run(api.addManager(manager), (m) => {
      put(m);
      el.reset();
    });
  }

  return (
    <main className="team">
      <WhatsApp />
      <h2>{t.team.title}</h2>
      <table>
        <tbody>
          {(managers.data?.items ?? []).map((m) => (
            <tr key={m.id} className={m.is_active ? "" : "inactive"}>
              <td>{m.name}</td>
              <td>{m.email}</td>
              <td>
                {m.id === me.id ? (
                  m.role === "admin" ? (
                    t.team.admin
                  ) : (
                    t.team.manager
                  )
                ) : (
                  <select
                    aria-label={t.team.roleOf(m.name)}
                    value={m.role}
                    onChange={(e) => run(api.patchManager(m.id, { role: e.target.value as "admin" | "manager" }), put)}
                  >
                    <option value="manager">{t.team.manager}</option>
                    <option value="admin">{t.team.admin}</option>
                  </select>
                )}
              </td>
              <td>
                {m.id !== me.id && m.is_active && (
                  <ConfirmButton
                    question={t.team.deactivateQuestion(m.name)}
                    confirm={t.team.deactivate}
                    onConfirm={() => run(api.patchManager(m.id, { is_active: false }), put)}
                  >
                    {t.team.deactivate}
                  </ConfirmButton>
                )}
                {m.id !== me.id && !m.is_active && (
                  <button type="button" onClick={() => run(api.patchManager(m.id, { is_active: true }), put)}>
                    {t.team.activate}
                  </button>
                )}
                {!m.is_active && <span className="muted"> {t.team.inactive}</span>}
                {m.id !== me.id && m.is_active && (
                  <ResetPassword
                    name={m.name}
                    onReset={(password, done) =>
                      run(api.patchManager(m.id, { password }), (changed) => {
                        put(changed);
                        done();
                      })
                    }
                  />
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>{t.team.add}</h3>
      <form noValidate onSubmit={add} className="stack narrow">
        <label>
          {t.team.name}
          <input name="name" required />
        </label>
        <label>
          {t.team.email}
          <input name="email" type="email" required />
        </label>
        <label>
          {t.team.password}
          <input name="password" type="password" minLength={8} required autoComplete="new-password" />
        </label>
        <label>
          {t.team.role}
          <select name="role" defaultValue="manager">
            <option value="manager">{t.team.manager}</option>
            <option value="admin">{t.team.admin}</option>
          </select>
        </label>
        <button type="submit">{t.team.add}</button>
        <ErrorLine error={error} />
      </form>
      <AttributeSettings />
      <LabelSettings />
      <PipelineSettings />
      <QuickReplySettings personal={false} />
    </main>
  );
}
