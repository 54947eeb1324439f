import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";

import { api } from "../api/client";
import type { Manager } from "../api/types";
import { changeConversation } from "../state/cache";
import { useNumbers } from "../state/hooks";
import { t } from "../strings";
import { Icon } from "./Icon";

/** Open a chat with a phone number: the bridge makes the portal, the CRM answers with its
 * conversation once it has arrived, and the inbox opens it. */
export function NewChat({ select, me }: { select: (id: number) => void; me: Manager }) {
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [phone, setPhone] = useState("");
  const [note, setNote] = useState<string | null>(null);
  // With several numbers the manager says which to write from; with one, the bridge's is it.
  const numbers = useNumbers(open).data?.items ?? [];
  const [number, setNumber] = useState<string | null>(null);
  const from = numbers.length > 1 ? (number ?? numbers[0]?.login_id ?? null) : null;
  if (!open) {
    return (
      <button type="button" className="new-chat" onClick={() => setOpen(true)}>
        + {t.newChat.open}
      </button>
    );
  }
  function submit(e: FormEvent) {
    e.preventDefault();
    setNote(null);
    api.newConversation(phone, from).then(
      (answer) => {
        if ("id" in answer) {
          changeConversation(qc, answer, me.id);
          select(answer.id);
          setOpen(false);
          setPhone("");
        } else setNote(t.newChat.waiting);
      },
      (err: Error) => setNote(err.message),
    );
  }
  return (
    <form noValidate className="new-chat" onSubmit={submit}>
      <input
        type="tel"
        required
        // biome-ignore lint/a11y/noAutofocus: a form the manager just opened: typing goes to its first field
        autoFocus
        value={phone}
        onChange={(e) => setPhone(e.target.value)}
        placeholder={t.newChat.example}
        aria-label={t.newChat.phone}
        title={t.newChat.phone}
      />
      {numbers.length > 1 && (
        <select value={from ?? ""} onChange={(e) => setNumber(e.target.value)} aria-label={t.newChat.number} title={t.newChat.number}>
          {numbers.map((n) => (
            <option key={n.login_id} value={n.login_id}>
              {n.name ?? `+${n.login_id}`}
            </option>
          ))}
        </select>
      )}
      <button type="submit">{t.newChat.start}</button>
      <button type="button" className="icon-button" onClick={() => setOpen(false)} aria-label={t.cancel}>
        <Icon name="close" />
      </button>
      {note && <p role="status">{note}</p>}
    </form>
  );
}
