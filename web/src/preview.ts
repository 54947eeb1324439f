// How the conversation list words a message from the parts the server sends (its kind, words,
// file name and length): a symbol and a label for media, a voice message's length, a file's
// name, as WhatsApp lists them. The cases are shared with the server's test
// (src/test/preview-cases.json).

import type { MessagePreview } from "./api/types";
import { duration } from "./format";
import { t } from "./strings";

const LABELS: Partial<Record<MessagePreview["kind"], string>> = {
  image: t.preview.image,
  video: t.preview.video,
  audio: t.preview.audio,
  voice: t.preview.voice,
  file: t.preview.file,
  sticker: t.preview.sticker,
  location: t.preview.location,
};

/** The two parts of the line: what stands before the message's words ("📷 Photo", "🎤 Voice
 * message 0:04", "Message deleted", or nothing) and the words (none once deleted). */
export function previewParts(p: MessagePreview): { label: string | null; words: string | null } {
  if (p.deleted) return { label: t.preview.deleted, words: null };
  if (p.kind === "voice" && p.duration_ms && !p.text) return { label: `${t.preview.voice} ${duration(p.duration_ms)}`, words: null };
  if (p.kind === "file" && p.filename && !p.text) return { label: t.preview.fileNamed(p.filename), words: null };
  return { label: LABELS[p.kind] ?? null, words: p.text };
}

/** The whole line: the label, then the words ("📷 Photo: The green one"). */
export function previewText(p: MessagePreview): string {
  const { label, words } = previewParts(p);
  if (label && words) return `${label}: ${words}`;
  return label ?? words ?? "";
}
