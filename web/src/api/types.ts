// The resources of the inbox API as the browser receives them: the server's pydantic models
// (crm_appservice/api/models.py) through its OpenAPI document (web/openapi.json, kept equal to
// the server's by a test), from which `npm run types` generates ./schema.ts. A field changed
// on the server is a type error here until the web follows.

import type * as S from "./schema";

export type Status = S.ConversationOut["status"];
export type Delivery = NonNullable<S.MessageOut["status"]>;

export type Manager = S.ManagerOut;
export type TeamMember = S.TeamMemberOut;
export type ManagerAdmin = S.ManagerAdminOut;
export type Contact = S.ConversationContactOut;
export type ContactDetail = S.ContactDetailOut;
export type ContactRow = S.ContactListItem;
export type ContactAttribute = S.AttributeOut;
export type AttributeKind = S.AttributeOut["kind"];
export type MessagePreview = S.MessagePreviewOut;
export type Conversation = S.ConversationOut;
export type Media = S.MediaOut;
export type Reaction = S.ReactionOut;
export type HistoryEvent = S.HistoryOut;
export type Note = S.NoteOut;
export type Order = S.OrderOut;
export type OrderItem = S.OrderItem;
export type Counts = S.CountsOut;
export type Token = S.TokenOut;
export type BusinessNumber = S.NumberStateOut;
export type QuickReply = S.QuickReplyOut;
export type QuickReplyFile = S.QuickReplyFileOut;
export type FilledIn = S.RenderedOut;
export type Label = S.LabelOut;
export type SavedView = S.ViewOut;
export type ViewList = S.ViewList;
export type Pipeline = S.PipelineOut;
export type Stage = S.StageOut;
export type Deal = S.DealOut;
export type Board = S.BoardOut;
export type BoardColumn = S.ColumnOut;
export type LiveType = S.LiveFrameOut["type"];
export type LiveFrame = S.LiveFrameOut;

/** What the browser keeps of a message it shows before the server has it. */
export interface LocalPart {
  file?: File;
  previewUrl?: string;
  progress?: number;
  failed?: string;
  retry?: () => void;
}

export type Message = S.MessageOut & { local?: LocalPart };

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** A page of a thread: its messages and the conversation's changes in the time it spans. */
export type MessagePage = Omit<S.MessagePage, "items"> & { items: Message[] };

export type Bundle = Omit<S.BundleOut, "messages"> & { messages: MessagePage };
