import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useRef, useState } from "react";

import { api } from "../api/client";
import type { QuickReply } from "../api/types";
import { useQuickReplies } from "../state/hooks";
import { putQuickReply } from "../state/quickReplies";
import { measure } from "../state/send";
import { t } from "../strings";
import { ConfirmButton } from "./Confirm";
import { ErrorLine, useActionError } from "./ErrorLine";

type Run = ReturnType<typeof useActionError>["run"];

/** One quick reply: name, shortcut and text saved when left, files added and removed. */
function QuickReplyRow({ r, put, run }: { r: QuickReply; put: (r: QuickReply | number) => void; run: Run }) {
  const [name, setName] = useState(r.name);
  const [shortcut, setShortcut] = useState(r.shortcut);
  const [body, setBody] = useState(r.body);
  const picker = useRef<HTMLInputElement>(null);
  const save = (field: "name" | "shortcut" | "body", value: string) => {
    const v = value.trim();
    if (v && v !== r[field]) run(api.patchQuickReply(r.id, { [field]: v }), put);
  };
  async function addFile(file: File) {
    const form = new FormData();
    const url = URL.createObjectURL(file);
    const size = await measure(file, url);
    URL.revokeObjectURL(url);
    if (size.width && size.height) {
      form.set("width", String(size.width));
      form.set("height", String(size.height));
    }
    form.set("file", file, file.name);
    run(
      api.addQuickReplyFile(r.id, form, () => {}),
      (changed) => put(changed),
    );
  }
  return (
    <li className="quick-row" data-quick-reply={r.shortcut}>
      <div className="quick-fields">
        <label>
          {t.quick.name}
          <input value={name} maxLength={100} onChange={(e) => setName(e.target.value)} onBlur={() => save("name", name)} />
        </label>
        <label>
          {t.quick.shortcut}
          <input
            value={shortcut}
            maxLength={32}
            onChange={(e) => setShortcut(e.target.value.toLowerCase())}
            onBlur={() => save("shortcut", shortcut)}
          />
        </label>
      </div>
      <label>
        {t.quick.body}
        <textarea value={body} maxLength={4096} onChange={(e) => setBody(e.target.value)} onBlur={() => save("body", body)} />
      </label>
      <div className="quick-files">
        {r.files.map((f) => (
          <span key={f.id} className="chip">
            <a href={f.url} target="_blank" rel="noreferrer">
              {f.filename}
            </a>{" "}
            <button
              type="button"
              className="link"
              aria-label={t.quick.fileOf(f.filename)}
              onClick={() => run(api.deleteQuickReplyFile(r.id, f.id), put)}
            >
              ×
            </button>
          </span>
        ))}
        {r.files.length < 5 && (
          <button type="button" className="link" onClick={() => picker.current?.click()}>
            {t.quick.addFile}
          </button>
        )}
        <input
          ref={picker}
          type="file"
          hidden
          aria-label={`${t.quick.addFile}: ${r.name}`}
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void addFile(f);
            e.target.value = "";
          }}
        />
        <ConfirmButton
          question={t.quick.removeQuestion(r.name)}
          confirm={t.quick.remove}
          onConfirm={() => run(api.deleteQuickReply(r.id), () => put(r.id))}
        >
          {t.quick.remove}
        </ConfirmButton>
      </div>
    </li>
  );
}

/** The team's quick replies (on the Team page, for admins) or the manager's own (on their
 * account): what "/" in the composer offers. */
export function QuickReplySettings({ personal }: { personal: boolean }) {
  const qc = useQueryClient();
  const list = useQuickReplies();
  const { error, run } = useActionError();
  const put = (changed: QuickReply | number) => putQuickReply(qc, changed);
  const items = (list.data?.items ?? []).filter((r) => r.personal === personal);
  function add(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const el = e.currentTarget;
    const form = new FormData(el);
    const body = {
      name: String(form.get("name")).trim(),
      shortcut: String(form.get("shortcut")).trim().toLowerCase(),
      body: String(form.get("body")).trim(),
      personal,
    };
    run(api.addQuickReply(body), (made) => {
      put(made);
      el.reset();
    });
  }
  const title = personal ? t.quick.own : t.quick.team;
  return (
    <section className="quick-settings" aria-label={title}>
      <h2>{title}</h2>
      <p className="muted">
        {personal ? t.quick.ownHint : t.quick.teamHint} {t.quick.hint}
      </p>
      {list.data && <p className="muted small">{t.quick.variables(list.data.variables)}</p>}
      {list.isSuccess && items.length === 0 && <p className="muted">{t.quick.empty}</p>}
      <ul className="quick-list">
        {items.map((r) => (
          <QuickReplyRow key={`${r.id}:${r.updated_at}`} r={r} put={put} run={run} />
        ))}
      </ul>
      <ErrorLine error={error} />
      <h3>{t.quick.add}</h3>
      <form noValidate onSubmit={add} className="stack narrow" aria-label={`${t.quick.add}: ${title}`}>
        <label>
          {t.quick.name}
          <input name="name" required maxLength={100} />
        </label>
        <label>
          {t.quick.shortcut}
          <input name="shortcut" required maxLength={32} placeholder="prices" />
        </label>
        <label>
          {t.quick.body}
          <textarea name="body" rows={3} maxLength={4096} />
        </label>
        <button type="submit">{t.quick.add}</button>
      </form>
    </section>
  );
}
