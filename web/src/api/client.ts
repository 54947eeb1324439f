// The one way the inbox talks to the API: JSON in and out, the session cookie, the CSRF header
// on every change, and errors as ApiError with the server's message.

import type * as S from "./schema";
import type { Bundle, ContactDetail, Conversation, Counts, Label, ManagerAdmin, Message, MessagePage, Note, Order, Status } from "./types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

function csrfFromCookie(): string | null {
  const match = document.cookie.match(/(?:^|;\s*)crm_csrf=([^;]+)/);
  return match?.[1] ? decodeURIComponent(match[1]) : null;
}

async function errorOf(resp: Response): Promise<ApiError> {
  try {
    const body = (await resp.json()) as Partial<S.Error>;
    if (body.error) return new ApiError(resp.status, body.error.code, body.error.message, body.error.field);
  } catch {
    // not JSON: a proxy's error page
  }
  return new ApiError(resp.status, "http_error", `The server answered ${resp.status}`);
}

/** `keepalive`: the request outlives the page (a draft saved as the tab closes). */
export async function request<T>(method: string, path: string, body?: unknown, keepalive = false): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined && !(body instanceof FormData)) headers["Content-Type"] = "application/json";
  if (method !== "GET") {
    const token = csrfToken ?? csrfFromCookie();
    if (token) headers["X-CSRF-Token"] = token;
  }
  let resp: Response;
  try {
    resp = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      keepalive,
      body: body === undefined ? undefined : body instanceof FormData ? body : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "offline", "The server cannot be reached");
  }
  if (!resp.ok) throw await errorOf(resp);
  if (resp.status === 204) return null as T;
  return (await resp.json()) as T;
}

/** A multipart reply with upload progress (fetch cannot report it). */
export function upload<T>(path: string, form: FormData, onProgress: (fraction: number) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    const token = csrfToken ?? csrfFromCookie();
    if (token) xhr.setRequestHeader("X-CSRF-Token", token);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // not JSON
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as T);
      else {
        const error = (body as Partial<S.Error> | null)?.error;
        reject(new ApiError(xhr.status, error?.code ?? "http_error", error?.message ?? `The server answered ${xhr.status}`, error?.field));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, "offline", "The server cannot be reached"));
    xhr.send(form);
  });
}

export interface ListFilters {
  tab: "mine" | "unassigned" | "all";
  status: Status | null;
  platform: string | null;
  /** One of the business's WhatsApp numbers (its login id): the chats on it. */
  number: string | null;
  /** Label ids: conversations with any of them, or with `labelMatch` "all" every one. */
  labels: number[];
  labelMatch: "any" | "all";
  unread: boolean;
  /** A colleague's conversations (with tab "all"); the tabs say mine and unassigned. */
  assignee: number | null;
  /** The contact's owner: "me", "none" (nobody's) or a manager's id as text. */
  owner: string | null;
  /** Waiting for us: the customer wrote last; with `waitingHours`, more than that long ago. */
  waiting: boolean;
  waitingHours: number | null;
  archived: boolean;
  q: string;
  /** The saved view the list was opened from (its filters may have been changed since). */
  view?: number | null;
}

/**
 * What narrows the list, as the API reads it: the list's query, and what a saved view keeps.
 * Only what differs from "everything" is there, in the order the query string has it.
 */
export function conversationFilters(f: ListFilters): S.ConversationFilters {
  const out: S.ConversationFilters = {};
  if (f.tab === "mine") out.assignee = "me";
  else if (f.tab === "unassigned") out.assignee = "none";
  else if (f.assignee !== null) out.assignee = String(f.assignee);
  if (f.status) out.status = f.status;
  if (f.owner) out.owner = f.owner;
  if (f.platform) out.platform = f.platform;
  if (f.number) out.number = f.number;
  if (f.labels.length > 0) out.label = f.labels;
  if (f.labels.length > 1 && f.labelMatch === "all") out.label_match = "all";
  if (f.unread) out.unread = true;
  if (f.waiting || f.waitingHours !== null) out.waiting = true;
  if (f.waitingHours !== null) out.waiting_hours = f.waitingHours;
  return out;
}

/** The label conditions of a list's query, as the API reads them (repeated `label`). */
function labelQuery(p: URLSearchParams, labels: number[], match: "any" | "all"): void {
  for (const id of labels) p.append("label", String(id));
  if (labels.length > 1 && match === "all") p.set("label_match", "all");
}

export function listQuery(f: ListFilters, cursor: string | null): string {
  const p = new URLSearchParams();
  for (const [key, value] of Object.entries(conversationFilters(f))) {
    if (key === "label") labelQuery(p, value as number[], f.labelMatch);
    else if (key !== "label_match") p.set(key, String(value));
  }
  if (f.archived) p.set("archived", "true");
  if (f.q.trim()) p.set("q", f.q.trim());
  if (cursor) p.set("cursor", cursor);
  return p.toString();
}

/** The Contacts page's search, order and filters, as the manager set them. */
export interface ContactFilters {
  q: string;
  sort: "name" | "newest";
  /** "me": My customers; "none": nobody's; a manager's id as text. */
  owner: string;
  number: string;
  /** Attribute conditions as the API reads them: key=value, key>=value, key<=value, or key. */
  attributes: string[];
  /** Label ids: contacts with any of them. */
  labels: number[];
}

export function contactsQuery(f: ContactFilters, cursor: string | null): string {
  const p = new URLSearchParams();
  if (f.q.trim()) p.set("q", f.q.trim());
  if (f.sort !== "name") p.set("sort", f.sort);
  if (f.owner) p.set("owner", f.owner);
  if (f.number) p.set("number", f.number);
  for (const condition of f.attributes) p.append("attribute", condition);
  labelQuery(p, f.labels, "any");
  if (cursor) p.set("cursor", cursor);
  return p.toString();
}

/** A step of logging in to WhatsApp, in the bridge's own shape. */
export type LoginStep = S.LoginStepOut & {
  /** Names this very step: a wait that names it joins the bridge's wait instead of starting over. */
  txn_id?: string;
};

/** An order as a manager writes it: amounts as typed (a decimal comma is fine). */
export type OrderFields = Required<Omit<S.OrderBody, "total">> & { total: string };

/** What narrows a board: the owner ("me", "none", a manager's id) and a label. */
export interface BoardFilters {
  owner: string | null;
  label: number | null;
}

function boardQuery(f: BoardFilters, extra: Record<string, string> = {}): string {
  const p = new URLSearchParams(extra);
  if (f.owner) p.set("owner", f.owner);
  if (f.label) p.set("label", String(f.label));
  return p.toString();
}

export const api = {
  login: (email: string, password: string) => request<S.LoginOut>("POST", "/api/v1/auth/login", { email, password } satisfies S.LoginBody),
  logout: () => request<object>("POST", "/api/v1/auth/logout"),
  me: () => request<S.LoginOut>("GET", "/api/v1/me"),
  changeMe: (changes: S.MePatch) => request<S.LoginOut>("PATCH", "/api/v1/me", changes),
  tokens: () => request<S.TokenList>("GET", "/api/v1/tokens"),
  createToken: (label: string, password: string, expires_in_days: number | null) =>
    request<S.NewTokenOut>("POST", "/api/v1/tokens", { label, password, expires_in_days } satisfies S.TokenBody),
  deleteToken: (id: number) => request<object>("DELETE", `/api/v1/tokens/${id}`),
  team: () => request<S.TeamList>("GET", "/api/v1/team"),
  conversations: (f: ListFilters, cursor: string | null) => request<S.ConversationPage>("GET", `/api/v1/conversations?${listQuery(f, cursor)}`),
  counts: () => request<Counts>("GET", "/api/v1/conversations/counts"),
  bundle: (id: number) => request<Bundle>("GET", `/api/v1/conversations/${id}`),
  messages: (id: number, cursor: string) => request<MessagePage>("GET", `/api/v1/conversations/${id}/messages?cursor=${encodeURIComponent(cursor)}`),
  read: (id: number) => request<Conversation>("POST", `/api/v1/conversations/${id}/read`),
  patch: (id: number, changes: S.ConversationPatch) => request<Conversation>("PATCH", `/api/v1/conversations/${id}`, changes),
  reply: (id: number, fields: S.ReplyBody) => request<Message>("POST", `/api/v1/conversations/${id}/messages`, fields),
  replyWithFile: (id: number, form: FormData, onProgress: (f: number) => void) =>
    upload<Message>(`/api/v1/conversations/${id}/messages`, form, onProgress),
  retry: (messageId: number) => request<Message>("POST", `/api/v1/messages/${messageId}/retry`),
  react: (messageId: number, key: string) => request<Message>("POST", `/api/v1/messages/${messageId}/reactions`, { key } satisfies S.ReactionBody),
  unreact: (messageId: number, key: string) => request<Message>("DELETE", `/api/v1/messages/${messageId}/reactions/${encodeURIComponent(key)}`),
  edit: (messageId: number, body: string) => request<Message>("PATCH", `/api/v1/messages/${messageId}`, { body } satisfies S.EditBody),
  remove: (messageId: number) => request<Message>("DELETE", `/api/v1/messages/${messageId}`),
  saveDraft: (id: number, body: string, keepalive = false) =>
    request<object>("PUT", `/api/v1/conversations/${id}/draft`, { body } satisfies S.DraftBody, keepalive),
  editNote: (noteId: number, body: string) => request<Note>("PATCH", `/api/v1/notes/${noteId}`, { body } satisfies S.NoteBody),
  deleteNote: (noteId: number) => request<Note>("DELETE", `/api/v1/notes/${noteId}`),
  deleteOrder: (orderId: number) => request<object>("DELETE", `/api/v1/orders/${orderId}`),
  addNote: (id: number, body: string) => request<Note>("POST", `/api/v1/conversations/${id}/notes`, { body } satisfies S.NoteBody),
  contacts: (f: ContactFilters, cursor: string | null) => request<S.ContactPage>("GET", `/api/v1/contacts?${contactsQuery(f, cursor)}`),
  contact: (id: number) => request<ContactDetail>("GET", `/api/v1/contacts/${id}`),
  importPreview: (body: S.ImportBody) => request<S.ImportPreviewOut>("POST", "/api/v1/contacts/import/preview", body),
  importContacts: (body: S.ImportBody) => request<S.ImportOut>("POST", "/api/v1/contacts/import", body),
  exportUrl: (f: ContactFilters) => `/api/v1/contacts/export.csv?${contactsQuery(f, null)}`,
  duplicates: (id: number) => request<S.DuplicateList>("GET", `/api/v1/contacts/${id}/duplicates`),
  merge: (keptId: number, goneId: number) =>
    request<S.MergeOut>("POST", `/api/v1/contacts/${keptId}/merge`, { contact_id: goneId } satisfies S.MergeBody),
  undoMerge: (mergeId: number) => request<S.MergeOut>("POST", `/api/v1/contact-merges/${mergeId}/undo`),
  attributes: () => request<S.AttributeList>("GET", "/api/v1/contact-attributes"),
  addAttribute: (body: S.AttributeBody) => request<S.AttributeOut>("POST", "/api/v1/contact-attributes", body),
  patchAttribute: (id: number, changes: S.AttributePatch) => request<S.AttributeOut>("PATCH", `/api/v1/contact-attributes/${id}`, changes),
  deleteAttribute: (id: number) => request<object>("DELETE", `/api/v1/contact-attributes/${id}`),
  quickReplies: () => request<S.QuickReplyList>("GET", "/api/v1/quick-replies"),
  addQuickReply: (body: S.QuickReplyBody) => request<S.QuickReplyOut>("POST", "/api/v1/quick-replies", body),
  patchQuickReply: (id: number, changes: S.QuickReplyPatch) => request<S.QuickReplyOut>("PATCH", `/api/v1/quick-replies/${id}`, changes),
  deleteQuickReply: (id: number) => request<object>("DELETE", `/api/v1/quick-replies/${id}`),
  addQuickReplyFile: (id: number, form: FormData, onProgress: (f: number) => void) =>
    upload<S.QuickReplyOut>(`/api/v1/quick-replies/${id}/files`, form, onProgress),
  deleteQuickReplyFile: (id: number, fileId: number) => request<S.QuickReplyOut>("DELETE", `/api/v1/quick-replies/${id}/files/${fileId}`),
  fillIn: (conversationId: number, id: number) => request<S.RenderedOut>("GET", `/api/v1/conversations/${conversationId}/quick-replies/${id}`),
  bulk: (body: S.BulkBody) => request<S.BulkOut>("POST", "/api/v1/conversations/bulk", body),
  pipelines: () => request<S.PipelineList>("GET", "/api/v1/pipelines"),
  addPipeline: (body: S.PipelineBody) => request<S.PipelineOut>("POST", "/api/v1/pipelines", body),
  patchPipeline: (id: number, changes: S.PipelinePatch) => request<S.PipelineOut>("PATCH", `/api/v1/pipelines/${id}`, changes),
  deletePipeline: (id: number) => request<object>("DELETE", `/api/v1/pipelines/${id}`),
  board: (pipelineId: number, f: BoardFilters) => request<S.BoardOut>("GET", `/api/v1/pipelines/${pipelineId}/board?${boardQuery(f)}`),
  column: (stageId: number, f: BoardFilters, cursor: string) =>
    request<S.DealPage>("GET", `/api/v1/deals?${boardQuery(f, { stage_id: String(stageId), cursor })}`),
  deal: (id: number) => request<S.DealDetailOut>("GET", `/api/v1/deals/${id}`),
  addDeal: (body: S.DealBody) => request<S.DealOut>("POST", "/api/v1/deals", body),
  patchDeal: (id: number, changes: S.DealPatch) => request<S.DealOut>("PATCH", `/api/v1/deals/${id}`, changes),
  moveDeal: (id: number, body: S.DealMove) => request<S.DealOut>("POST", `/api/v1/deals/${id}/move`, body),
  deleteDeal: (id: number) => request<object>("DELETE", `/api/v1/deals/${id}`),
  views: () => request<S.ViewList>("GET", "/api/v1/views"),
  addView: (body: S.ViewBody) => request<S.ViewCounted>("POST", "/api/v1/views", body),
  patchView: (id: number, changes: S.ViewPatch) => request<S.ViewCounted>("PATCH", `/api/v1/views/${id}`, changes),
  deleteView: (id: number) => request<object>("DELETE", `/api/v1/views/${id}`),
  labels: () => request<S.LabelList>("GET", "/api/v1/labels"),
  addLabel: (body: S.LabelBody) => request<Label>("POST", "/api/v1/labels", body),
  patchLabel: (id: number, changes: S.LabelPatch) => request<Label>("PATCH", `/api/v1/labels/${id}`, changes),
  deleteLabel: (id: number) => request<object>("DELETE", `/api/v1/labels/${id}`),
  labelConversation: (id: number, labelId: number) =>
    request<Conversation>("POST", `/api/v1/conversations/${id}/labels`, { label_id: labelId } satisfies S.LabelRef),
  unlabelConversation: (id: number, labelId: number) => request<Conversation>("DELETE", `/api/v1/conversations/${id}/labels/${labelId}`),
  labelContact: (id: number, labelId: number) =>
    request<S.LabelIdsOut>("POST", `/api/v1/contacts/${id}/labels`, { label_id: labelId } satisfies S.LabelRef),
  unlabelContact: (id: number, labelId: number) => request<S.LabelIdsOut>("DELETE", `/api/v1/contacts/${id}/labels/${labelId}`),
  patchContact: (id: number, changes: S.ContactPatch) => request<ContactDetail>("PATCH", `/api/v1/contacts/${id}`, changes),
  addOrder: (contactId: number, order: S.OrderBody) => request<Order>("POST", `/api/v1/contacts/${contactId}/orders`, order),
  patchOrder: (orderId: number, changes: S.OrderPatch) => request<Order>("PATCH", `/api/v1/orders/${orderId}`, changes),
  whatsapp: () => request<S.WhatsAppOut>("GET", "/api/v1/whatsapp"),
  loginStart: (flow: "qr" | "phone") => request<LoginStep>("POST", `/api/v1/whatsapp/login/${flow}`),
  /** The next login step, or null when there is nothing new yet (ask again with the same step). */
  loginWait: (login: string, step: string, txn?: string) =>
    request<LoginStep | null>(
      "POST",
      `/api/v1/whatsapp/login/${encodeURIComponent(login)}/${encodeURIComponent(step)}/wait${txn ? `?txn_id=${encodeURIComponent(txn)}` : ""}`,
    ),
  loginInput: (login: string, step: string, fields: Record<string, string>) =>
    request<LoginStep>("POST", `/api/v1/whatsapp/login/${encodeURIComponent(login)}/${encodeURIComponent(step)}/input`, fields),
  loginCancel: (login: string) => request<object>("POST", `/api/v1/whatsapp/login/${encodeURIComponent(login)}/cancel`),
  logout_whatsapp: (login: string) => request<object>("POST", `/api/v1/whatsapp/logout/${encodeURIComponent(login)}`),
  newConversation: (phone: string, login_id: string | null) =>
    request<Conversation | S.NewChatPendingOut>("POST", "/api/v1/conversations/new", { phone, login_id } satisfies S.NewConversationBody),
  numbers: () => request<S.NumberList>("GET", "/api/v1/numbers"),
  nameNumber: (login: string, name: string | null) =>
    request<S.NumberOut>("PUT", `/api/v1/whatsapp/logins/${encodeURIComponent(login)}/name`, { name } satisfies S.NumberNameBody),
  managers: () => request<S.ManagerList>("GET", "/api/v1/managers"),
  addManager: (m: S.ManagerBody) => request<ManagerAdmin>("POST", "/api/v1/managers", m),
  patchManager: (id: number, changes: S.ManagerPatch) => request<ManagerAdmin>("PATCH", `/api/v1/managers/${id}`, changes),
};
