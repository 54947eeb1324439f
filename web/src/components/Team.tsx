import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { FormEvent } from "react";

import { api } from "../api/client";
import type { Manager, ManagerAdmin } from "../api/types";
import { keys } from "../state/cache";
import { t } from "../strings";
import { ConfirmButton } from "./Confirm";
import { WhatsApp } from "./WhatsApp";
import { ErrorLine, useActionError } from "./ErrorLine";

/** Admins: the managers, add one, deactivate or activate. */
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
              <td>{m.role === "admin" ? t.team.admin : t.team.manager}</td>
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
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>{t.team.add}</h3>
      <form onSubmit={add} className="stack narrow">
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
    </main>
  );
}
