import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useCallback, useEffect, useLayoutEffect, useRef, useState, type ClipboardEvent, type DragEvent, type KeyboardEvent } from "react";

import { api } from "../api/client";
import { rules } from "../api/contract";
import type { Bundle, Conversation, Manager, Message } from "../api/types";
import { addNote, keys, patchOptimistic, upsertMessage } from "../state/cache";
import { t } from "../strings";
import { fitHeight } from "./Editor";
import { EmojiPicker } from "./EmojiPicker";
import { ErrorLine, useActionError } from "./ErrorLine";
import { Icon } from "./Icon";

// Drafts are the manager's, kept on the server (a colleague signing in on this browser never
// sees them): saved a moment after typing stops, and at once when the composer goes away.
const DRAFT_DELAY_MS = 600;
// What earlier versions kept in this browser: removed, it was anyone's to read.
const OLD_DRAFT_PREFIX = "crm.draft.";

export function forgetLocalDrafts(): void {
  try {
    for (const key of Object.keys(localStorage)) if (key.startsWith(OLD_DRAFT_PREFIX)) localStorage.removeItem(key);
  } catch {
    // storage blocked: nothing was kept either
  }
}

/** Keep the composer's text as the manager's draft: debounced, flushed on leaving. */
function useDraft(qc: QueryClient, conversationId: number, text: string): void {
  const saved = useRef(qc.getQueryData<Bundle>(keys.bundle(conversationId))?.draft ?? "");
  const pending = useRef<string | null>(null);
  const flush = useCallback(
    (keepalive = false) => {
      const body = pending.current;
      pending.current = null;
      if (body === null || body === saved.current) return;
      saved.current = body;
      qc.setQueryData<Bundle>(keys.bundle(conversationId), (b) => (b ? { ...b, draft: body || null } : b));
      api.saveDraft(conversationId, body, keepalive).catch(() => {
        saved.current = ""; // not kept: tried again with the next change
      });
    },
    [qc, conversationId],
  );
  useEffect(() => {
    if (text === saved.current && pending.current === null) return;
    pending.current = text;
    const timer = setTimeout(() => flush(), DRAFT_DELAY_MS);
    return () => clearTimeout(timer);
  }, [text, flush]);
  useEffect(() => {
    const leaving = () => flush(true);
    addEventListener("pagehide", leaving);
    return () => {
      removeEventListener("pagehide", leaving);
      flush(true);
    };
  }, [flush]);
}

/** What the file goes out as, by the server's rule (x-rules.file_kinds). */
export function kindOf(file: File): Message["kind"] {
  const { by_major, as_file } = rules.file_kinds;
  // Read as the server reads a declared type (file_kinds.media_type): no parameters, lower case.
  const type = (file.type.split(";")[0] ?? "").trim().toLowerCase();
  if ((as_file as readonly string[]).includes(type)) return "file";
  return (by_major as Record<string, Message["kind"]>)[type.split("/")[0] ?? ""] ?? "file";
}

/** Width and height of an image or video, duration of a video or audio file, if the browser can tell. */
async function measure(file: File, url: string): Promise<{ width?: number; height?: number; duration_ms?: number }> {
  const kind = kindOf(file);
  try {
    if (kind === "image") {
      const img = new Image();
      img.src = url;
      await img.decode();
      return { width: img.naturalWidth, height: img.naturalHeight };
    }
    if (kind === "video" || kind === "audio") {
      const el = document.createElement(kind);
      el.preload = "metadata";
      el.src = url;
      await new Promise((resolve, reject) => {
        el.onloadedmetadata = resolve;
        el.onerror = reject;
        setTimeout(reject, 3000);
      });
      const size = kind === "video" ? { width: (el as HTMLVideoElement).videoWidth, height: (el as HTMLVideoElement).videoHeight } : {};
      return { ...size, duration_ms: Number.isFinite(el.duration) ? Math.round(el.duration * 1000) : undefined };
    }
  } catch {
    // unknown to this browser: sent without dimensions
  }
  return {};
}

export function newTxnId(): string {
  return typeof crypto.randomUUID === "function" ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

interface Props {
  conversation: Conversation;
  me: Manager;
  replyTo: Message | null;
  clearReply: () => void;
}

export function Composer({ conversation, me, replyTo, clearReply }: Props) {
  const qc = useQueryClient();
  const [text, setText] = useState(() => qc.getQueryData<Bundle>(keys.bundle(conversation.id))?.draft ?? "");
  const [file, setFile] = useState<File | null>(null);
  const [noteMode, setNoteMode] = useState(false);
  const { error, setError, run } = useActionError();
  const input = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);

  useDraft(qc, conversation.id, text);
  // The box grows with its text up to eight lines (CSS caps it).
  useLayoutEffect(() => fitHeight(input.current), [text]);
  useEffect(() => {
    if (replyTo) input.current?.focus();
  }, [replyTo]);

  // An emoji goes where the caret is (or replaces the selection), and the caret after it.
  function insert(emoji: string) {
    const box = input.current;
    const start = box?.selectionStart ?? text.length;
    const end = box?.selectionEnd ?? text.length;
    setText(text.slice(0, start) + emoji + text.slice(end));
    requestAnimationFrame(() => {
      box?.focus();
      box?.setSelectionRange(start + emoji.length, start + emoji.length);
    });
  }

  function optimistic(txn: string, body: string, extra: Partial<Message>): Message {
    return {
      id: -Date.now(),
      conversation_id: conversation.id,
      version: 0,
      event_id: null,
      client_txn_id: txn,
      direction: "out",
      channel: "matrix",
      sender: { type: "manager", id: me.id, name: me.name },
      kind: "text",
      body,
      html: null,
      media: null,
      location: null,
      reply_to: replyTo?.id ?? null,
      reactions: [],
      status: "pending",
      error: null,
      edited_at: null,
      deleted_at: null,
      created_at: new Date().toISOString(),
      ...extra,
    };
  }

  function sendText(body: string) {
    const txn = newTxnId();
    const reply = replyTo?.id ?? null;
    const attempt = () =>
      api.reply(conversation.id, { client_txn_id: txn, body, reply_to: reply }).then(
        (answer) => upsertMessage(qc, answer),
        (e: Error) =>
          patchOptimistic(qc, conversation.id, txn, (m) => ({
            ...m,
            status: "failed",
            error: e.message,
            local: { ...m.local, failed: e.message, retry },
          })),
      );
    const retry = () => {
      patchOptimistic(qc, conversation.id, txn, (m) => ({ ...m, status: "pending", error: null }));
      void attempt();
    };
    upsertMessage(qc, optimistic(txn, body, {}));
    void attempt();
  }

  async function sendFile(f: File, caption: string) {
    const txn = newTxnId();
    const previewUrl = URL.createObjectURL(f);
    const kind = kindOf(f);
    upsertMessage(
      qc,
      optimistic(txn, caption, {
        kind,
        media: { url: previewUrl, thumbnail_url: null, mimetype: f.type, size: f.size, width: null, height: null, duration_ms: null, filename: f.name },
        local: { file: f, previewUrl, progress: 0 },
      }),
    );
    const dims = await measure(f, previewUrl);
    const form = new FormData();
    form.set("client_txn_id", txn);
    if (caption) form.set("body", caption);
    if (replyTo) form.set("reply_to", String(replyTo.id));
    for (const [key, value] of Object.entries(dims)) if (value) form.set(key, String(value));
    form.set("file", f, f.name);
    try {
      const answer = await api.replyWithFile(conversation.id, form, (progress) =>
        patchOptimistic(qc, conversation.id, txn, (m) => ({ ...m, local: { ...m.local, progress } })),
      );
      upsertMessage(qc, answer);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      patchOptimistic(qc, conversation.id, txn, (m) => ({ ...m, status: "failed", error: reason, local: { ...m.local, failed: reason } }));
    }
  }

  function submit() {
    const body = text.trim();
    setError(null);
    if (noteMode) {
      if (!body) return;
      run(api.addNote(conversation.id, body), (note) => addNote(qc, note));
    } else if (file) {
      void sendFile(file, body);
      setFile(null);
    } else if (body) {
      sendText(body);
    } else {
      return;
    }
    setText("");
    clearReply();
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  }

  function takeFile(files: FileList | null | undefined) {
    const f = files?.[0];
    if (f) setFile(f);
  }

  return (
    <div
      className={`composer${noteMode ? " note-mode" : ""}`}
      onDragOver={(e: DragEvent) => e.preventDefault()}
      onDrop={(e: DragEvent) => {
        e.preventDefault();
        takeFile(e.dataTransfer.files);
      }}
    >
      {replyTo && (
        <div className="reply-bar">
          <span>
            {t.replyingTo} <strong>{replyTo.sender.name ?? t.you}</strong>: {replyTo.body ?? replyTo.media?.filename}
          </span>
          <button type="button" className="icon-button" onClick={clearReply} aria-label={t.cancel}>
            <Icon name="close" />
          </button>
        </div>
      )}
      {file && (
        <div className="attachment-preview">
          <span>
            <Icon name="attach" /> {file.name}
          </span>
          <button type="button" className="icon-button" onClick={() => setFile(null)} aria-label={t.cancel}>
            <Icon name="close" />
          </button>
        </div>
      )}
      <ErrorLine error={error} />
      <div className="composer-row">
        <label className="note-toggle">
          <input type="checkbox" checked={noteMode} onChange={(e) => setNoteMode(e.target.checked)} />
          {t.note}
        </label>
        <button type="button" className="icon-button" onClick={() => picker.current?.click()} aria-label={t.attach} disabled={noteMode}>
          <Icon name="attach" />
        </button>
        <EmojiPicker onPick={insert} />
        <input ref={picker} type="file" hidden onChange={(e) => (takeFile(e.target.files), (e.target.value = ""))} />
        <textarea
          ref={input}
          rows={1}
          value={text}
          placeholder={noteMode ? t.composerNote : file ? t.caption : t.composer}
          aria-label={t.composer}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
          onPaste={(e: ClipboardEvent) => takeFile(e.clipboardData.files)}
        />
        <button type="button" className="send" onClick={submit}>
          {t.send}
        </button>
      </div>
    </div>
  );
}
