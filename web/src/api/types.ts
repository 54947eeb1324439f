// The resources of the inbox API (crm_appservice/api/models.py), as the browser receives them.

export type Status = "open" | "pending" | "resolved" | "snoozed";
export type Delivery = "pending" | "sent" | "delivered" | "read" | "failed";

export interface Manager {
  id: number;
  email: string;
  name: string;
  role: "admin" | "manager";
}

export interface TeamMember {
  id: number;
  name: string;
  role: "admin" | "manager";
}

export interface ManagerAdmin extends Manager {
  is_active: boolean;
  created_at: string;
}

export interface Contact {
  id: number;
  display_name: string | null;
  phone: string | null;
  email: string | null;
  avatar_url: string | null;
}

export interface ContactDetail extends Contact {
  platform: string;
  remote_id: string;
  attributes: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export interface MessagePreview {
  id: number;
  direction: "in" | "out";
  /** Who of the team wrote it; null: the customer's, or sent from the phone. */
  manager_id?: number | null;
  manager_name?: string | null;
  text: string | null;
  created_at: string | null;
}

export interface Conversation {
  id: number;
  /** Grows with every change: of two copies, the one with the higher version is newer. */
  version: number;
  assignee_name?: string | null;
  platform: string;
  kind: "dm" | "group";
  room_id: string;
  title: string | null;
  status: Status;
  snoozed_until: string | null;
  assignee_id: number | null;
  is_archived: boolean;
  unread_count: number;
  last_message_at: string | null;
  last_message: MessagePreview | null;
  /** In a search: the newest message with every word (an excerpt around the first one). */
  match?: MessagePreview | null;
  contact: Contact | null;
}

export interface Media {
  url: string;
  thumbnail_url: string | null;
  mimetype: string | null;
  size: number | null;
  width: number | null;
  height: number | null;
  duration_ms: number | null;
  filename: string | null;
}

export interface Reaction {
  key: string;
  count: number;
  mine: boolean;
}

export interface Message {
  id: number;
  conversation_id: number;
  // Grows with every change on the server: of two copies of a message, the higher is newer.
  version: number;
  event_id: string | null;
  client_txn_id: string | null;
  direction: "in" | "out";
  channel: "matrix" | "email";
  sender: { type: "contact" | "manager" | "system"; id: number | null; name: string | null };
  kind: string;
  body: string | null;
  html: string | null;
  media: Media | null;
  location: { latitude: number; longitude: number } | null;
  reply_to: number | null;
  reactions: Reaction[];
  status: Delivery | null;
  error: string | null;
  edited_at: string | null;
  deleted_at: string | null;
  created_at: string;
  // Only on messages the browser shows before the server has them.
  local?: { file?: File; previewUrl?: string; progress?: number; failed?: string; retry?: () => void };
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** A change to the conversation, shown in the thread where it happened (see HistoryOut). */
export interface HistoryEvent {
  id: number;
  conversation_id: number;
  change: "assignee" | "status" | "archived";
  /** manager: actor_id's action; customer: the customer wrote again; snooze: its time ran out. */
  cause: "manager" | "customer" | "snooze" | "system";
  actor_id: number | null;
  actor_name: string | null;
  assignee_id: number | null;
  assignee_name: string | null;
  status: Status | null;
  snoozed_until: string | null;
  archived: boolean | null;
  created_at: string;
}

/** A page of a thread: its messages and the conversation's changes in the time it spans. */
export interface MessagePage extends Page<Message> {
  history: HistoryEvent[];
}

export interface Note {
  id: number;
  conversation_id: number;
  author_id: number | null;
  author_name: string | null;
  body: string;
  created_at: string;
  edited_at: string | null;
  /** Set on a live frame: the note was deleted. */
  deleted_at: string | null;
}

export interface Order {
  id: number;
  contact_id: number;
  number: string;
  status: string;
  total: string;
  currency: string;
  items: Record<string, unknown>[];
  created_at: string;
  updated_at: string;
}

export interface Bundle {
  conversation: Conversation;
  contact: Contact | null;
  orders: Order[];
  notes: Note[];
  messages: MessagePage;
  /** The signed-in manager's unsent reply here. */
  draft: string | null;
}

export interface Counts {
  mine: number;
  unassigned: number;
  all_open: number;
  unread: number;
}

export type LiveType =
  | "hello"
  | "resync"
  | "message.created"
  | "message.updated"
  | "conversation.created"
  | "conversation.updated"
  | "conversation.hidden"
  | "note.created"
  | "note.updated"
  | "history.created";

export interface LiveFrame {
  type: LiveType;
  seq: number;
  data: unknown;
}

/** An API token for a script (its secret is shown once, when it is made). */
export interface Token {
  id: number;
  label: string | null;
  created_at: string;
  last_seen_at: string;
  expires_at: string | null;
}
