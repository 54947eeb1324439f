import type { Conversation, Message, MessagePreview } from "../api/types";

/** Test data: a message and a conversation with every field, overridable. */
export function message(id: number, extra: Partial<Message> = {}): Message {
  return {
    id,
    conversation_id: 1,
    version: 1,
    event_id: `$e${id}`,
    client_txn_id: null,
    direction: "in",
    channel: "matrix",
    sender: { type: "contact", id: 5, name: "Ana" },
    kind: "text",
    body: `m${id}`,
    html: null,
    media: null,
    location: null,
    reply_to: null,
    reactions: [],
    status: null,
    error: null,
    edited_at: null,
    deleted_at: null,
    created_at: new Date(Date.UTC(2026, 0, 1, 10, 0, id)).toISOString(),
    ...extra,
  };
}

export function conversation(id: number, minute: number, extra: Partial<Conversation> = {}): Conversation {
  return {
    id,
    version: 1,
    platform: "whatsapp",
    kind: "dm",
    room_id: `!r${id}`,
    title: `C${id}`,
    status: "open",
    snoozed_until: null,
    assignee_id: null,
    is_archived: false,
    label_ids: [],
    unread_count: 0,
    last_message_at: new Date(Date.UTC(2026, 0, 1, 10, minute)).toISOString(),
    waiting_since: null,
    last_message: null,
    match: null,
    merged_into: null,
    number: null,
    assignee_name: null,
    contact: null,
    ...extra,
  };
}

/** A list row's preview of a message (a customer's unless a manager is named). */
export function preview(id: number, direction: "in" | "out", text: string | null, extra: Partial<MessagePreview> = {}): MessagePreview {
  return {
    id,
    direction,
    text,
    kind: "text",
    filename: null,
    duration_ms: null,
    deleted: false,
    created_at: null,
    manager_id: null,
    manager_name: null,
    ...extra,
  };
}
