import { useQueryClient } from "@tanstack/react-query";
import { memo, type ReactNode, useMemo, useState } from "react";

import { api } from "../api/client";
import type { Manager, Message } from "../api/types";
import { clock } from "../format";
import { mayDelete, mayEdit } from "../permissions";
import { safeHtml } from "../safeHtml";
import { upsertMessage } from "../state/cache";
import { useLongPress } from "../state/useLongPress";
import { t } from "../strings";
import { ConfirmButton } from "./Confirm";
import { Editor } from "./Editor";
import { Linkify } from "./Linkify";
import { MediaView } from "./MediaView";
import { ErrorLine, useActionError } from "./ErrorLine";
import { Icon } from "./Icon";

const QUICK_REACTIONS = ["👍", "❤️", "😂", "😮", "😢", "🙏"];

// Ticks as WhatsApp draws them; waiting and failing are symbols of the inbox's own.
const TICKS: Record<string, ReactNode> = {
  pending: <Icon name="pending" />,
  sent: "✓",
  delivered: "✓✓",
  read: "✓✓",
  failed: <Icon name="failed" />,
};

interface Props {
  message: Message;
  grouped: boolean;
  me: Manager;
  quoted: Message | undefined;
  onReply: (m: Message) => void;
  onQuoteClick: (id: number) => void;
  /** Just jumped to (a search hit, a quoted message): marked for a moment. */
  flash?: boolean;
}

export const MessageBubble = memo(function MessageBubble({ message: m, grouped, me, quoted, onReply, onQuoteClick, flash = false }: Props) {
  const qc = useQueryClient();
  const [editing, setEditing] = useState<string | null>(null);
  const { error, run } = useActionError();
  const out = m.direction === "out";
  const act = (call: Promise<Message>) => run(call, (answer) => upsertMessage(qc, answer));
  const react = (key: string) => {
    const existing = m.reactions.find((r) => r.key === key && r.mine);
    act(existing ? api.unreact(m.id, key) : api.react(m.id, key));
  };
  const deleted = m.deleted_at !== null;
  // Sanitized once per text, not at every render of the bubble.
  const html = useMemo(() => (m.html ? safeHtml(m.html) : null), [m.html]);
  const [pressed, setPressed] = useState(false);
  const press = useLongPress(() => setPressed((p) => !p));

  return (
    <div
      className={`bubble-row ${out ? "out" : "in"}${grouped ? " grouped" : ""}${flash ? " flash" : ""}${pressed ? " pressed" : ""}`}
      data-message={m.id}
      {...press}
    >
      <div className={`bubble${deleted ? " deleted" : ""}${m.status === "failed" ? " failed" : ""}${editing !== null ? " editing" : ""}`}>
        {!grouped && !out && m.sender.name && <div className="sender">{m.sender.name}</div>}
        {!grouped && out && m.sender.name && <div className="sender">{m.sender.name}</div>}
        {quoted && !deleted && (
          <button type="button" className="quote" onClick={() => onQuoteClick(quoted.id)}>
            <strong>{quoted.sender.name ?? (quoted.direction === "out" ? t.you : "")}</strong>
            <span>{quoted.deleted_at ? t.deleted : (quoted.body ?? quoted.media?.filename ?? "")}</span>
          </button>
        )}
        {deleted ? (
          <em>{t.deleted}</em>
        ) : editing !== null ? (
          <Editor
            initial={editing}
            onSave={(body) => {
              act(api.edit(m.id, body));
              setEditing(null);
            }}
            onCancel={() => setEditing(null)}
          />
        ) : (
          <>
            {m.media && <MediaView message={m} />}
            {m.location && (
              <a
                className="location"
                href={`https://www.openstreetmap.org/?mlat=${m.location.latitude}&mlon=${m.location.longitude}#map=16/${m.location.latitude}/${m.location.longitude}`}
                target="_blank"
                rel="noreferrer noopener"
              >
                <Icon name="location" /> {m.location.latitude.toFixed(5)}, {m.location.longitude.toFixed(5)} · {t.media.openMap}
              </a>
            )}
            {html !== null ? (
              // biome-ignore lint/security/noDangerouslySetInnerHtml: safeHtml keeps only the server's published allow-list (DOMPurify)
              <div className="text" dangerouslySetInnerHTML={{ __html: html }} />
            ) : (
              m.body &&
              !(m.media && m.body === m.media.filename) && (
                <div className={`text kind-${m.kind}`}>
                  <Linkify text={m.body} />
                </div>
              )
            )}
          </>
        )}
        <div className="meta">
          {m.edited_at && !deleted && <span className="edited">{t.edited}</span>}
          <time dateTime={m.created_at}>{clock(m.created_at)}</time>
          {out && m.status && (
            <span
              role="img"
              className={`tick tick-${m.status}`}
              title={m.status === "failed" ? (m.error ?? t.tick.failed) : t.tick[m.status]}
              aria-label={t.tick[m.status]}
            >
              {TICKS[m.status]}
            </span>
          )}
        </div>
        {m.local?.progress !== undefined && m.local.progress < 1 && (
          <progress className="upload" value={m.local.progress} max={1} aria-label="upload" />
        )}
        {m.status === "failed" && (
          <div className="failure">
            <span>{m.error ?? m.local?.failed}</span>
            {m.id > 0 && !deleted && (
              <button type="button" onClick={() => act(api.retry(m.id))}>
                {t.retry}
              </button>
            )}
            {m.id < 0 && m.local?.retry && (
              <button type="button" onClick={m.local.retry}>
                {t.retry}
              </button>
            )}
          </div>
        )}
        <ErrorLine error={error} />
      </div>
      {m.reactions.length > 0 && !deleted && (
        <div className="reactions">
          {m.reactions.map((r) => (
            <button type="button" key={r.key} className={r.mine ? "mine" : ""} onClick={() => react(r.key)}>
              {r.key} {r.count > 1 && r.count}
            </button>
          ))}
        </div>
      )}
      {m.id > 0 && !deleted && (
        <div className="actions">
          <button type="button" onClick={() => onReply(m)} title={t.reply} aria-label={t.reply}>
            <Icon name="reply" />
          </button>
          {QUICK_REACTIONS.map((key) => (
            <button type="button" key={key} onClick={() => react(key)} title={t.react}>
              {key}
            </button>
          ))}
          {mayEdit(m, me) && (
            <button type="button" onClick={() => setEditing(m.body ?? "")} title={t.edit} aria-label={t.edit}>
              <Icon name="edit" />
            </button>
          )}
          {mayDelete(m, me) && (
            <ConfirmButton title={t.delete} question={t.deleteQuestion} confirm={t.delete} onConfirm={() => act(api.remove(m.id))}>
              <Icon name="delete" />
            </ConfirmButton>
          )}
        </div>
      )}
    </div>
  );
});
