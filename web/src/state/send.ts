// Sending a reply: it shows at once (an optimistic message, by its client_txn_id), the answer
// replaces it, and a failure stays on it with the reason and a way to retry.

import { useQueryClient } from "@tanstack/react-query";

import { api } from "../api/client";
import { rules } from "../api/contract";
import type { Conversation, Manager, Message, QuickReplyFile } from "../api/types";
import { patchOptimistic, upsertMessage } from "./cache";

/** What the file goes out as, by the server's rule (x-rules.file_kinds). */
export function kindOf(file: File): Message["kind"] {
  const { by_major, as_file } = rules.file_kinds;
  // Read as the server reads a declared type (file_kinds.media_type): no parameters, lower case.
  const type = (file.type.split(";")[0] ?? "").trim().toLowerCase();
  if ((as_file as readonly string[]).includes(type)) return "file";
  return (by_major as Record<string, Message["kind"]>)[type.split("/")[0] ?? ""] ?? "file";
}

/** Width and height of an image or video, duration of a video or audio file, if the browser can tell. */
export async function measure(file: File, url: string): Promise<{ width?: number; height?: number; duration_ms?: number }> {
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

/** Send text or a file as `me` in the conversation, replying to `replyTo` if set. */
export function useSend(conversation: Conversation, me: Manager, replyTo: Message | null) {
  const qc = useQueryClient();
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

  /** A JSON reply: text, or a quick reply's file with `body` its caption. The promise settles
   * when the server has answered (the next of several is sent after it, in order). */
  function sendJson(body: string, file: QuickReplyFile | null, reply: number | null = replyTo?.id ?? null): Promise<boolean> {
    const txn = newTxnId();
    const fields = { client_txn_id: txn, body: body || null, reply_to: reply, quick_reply_file: file?.id ?? null };
    const attempt = () =>
      api.reply(conversation.id, fields).then(
        (answer) => {
          upsertMessage(qc, answer);
          return true;
        },
        (e: Error) => {
          patchOptimistic(qc, conversation.id, txn, (m) => ({
            ...m,
            status: "failed",
            error: e.message,
            local: { ...m.local, failed: e.message, retry },
          }));
          return false;
        },
      );
    const retry = () => {
      patchOptimistic(qc, conversation.id, txn, (m) => ({ ...m, status: "pending", error: null }));
      void attempt();
    };
    const media = file && {
      url: file.url,
      thumbnail_url: null,
      mimetype: file.mimetype,
      size: file.size,
      width: file.width,
      height: file.height,
      duration_ms: null,
      filename: file.filename,
    };
    upsertMessage(qc, optimistic(txn, body, file && media ? { kind: file.kind, media } : {}));
    return attempt();
  }

  function sendText(body: string) {
    void sendJson(body, null);
  }

  /** A quick reply's files in order, its text the first one's caption (or alone without files),
   * the first one replying to `replyTo`; one that fails stops the rest (it shows why, and can
   * be sent again). Whether all went. */
  async function sendQuickReply(body: string, files: QuickReplyFile[]): Promise<boolean> {
    if (files.length === 0) return sendJson(body, null);
    for (const [i, file] of files.entries()) {
      if (!(await sendJson(i === 0 ? body : "", file, i === 0 ? (replyTo?.id ?? null) : null))) return false;
    }
    return true;
  }

  async function sendFile(f: File, caption: string) {
    const txn = newTxnId();
    const previewUrl = URL.createObjectURL(f);
    const kind = kindOf(f);
    upsertMessage(
      qc,
      optimistic(txn, caption, {
        kind,
        media: {
          url: previewUrl,
          thumbnail_url: null,
          mimetype: f.type,
          size: f.size,
          width: null,
          height: null,
          duration_ms: null,
          filename: f.name,
        },
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
  return { sendText, sendFile, sendQuickReply };
}
