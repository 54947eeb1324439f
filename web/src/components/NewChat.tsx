import { useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";

import { api } from "../api/client";
import type { Manager } from "../api/types";
import { changeConversation } from "../state/cache";
import { t } from "../strings";
import { Icon } from "./Icon";

/** Open a chat with a phone number: the bridge makes the portal, the CRM answers with its
 * conversation once it has arrived, and the inbox opens it. */
export function NewChat({ select, me }: { select: (id: number) => void; me: Manager }) {
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [phone, setPhone] = useState("");
  const [note, setNote] = useState<string | null>(null);
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
    api.newConversation(phone).then(
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
      <button type="submit">{t.newChat.start}</button>
      <button type="button" className="icon-button" onClick={() => setOpen(false)} aria-label={t.cancel}>
        <Icon name="close" />
      </button>
      {note && <p role="status">{note}</p>}
    </form>
  );
}
