import type { Manager, Message } from "../api/types";
import type { Row } from "../state/threadRows";
import { t } from "../strings";
import { HistoryRow } from "./HistoryRow";
import { MessageBubble } from "./MessageBubble";
import { NoteRow } from "./NoteRow";

export interface RowProps {
  me: Manager;
  byId: Map<number, Message>;
  flash: number | null;
  onReply: (m: Message) => void;
  onQuoteClick: (id: number) => void;
}

/** One row of the thread: a day, the unread marker, a note, a change, or a message. */
export function ThreadRow({ row, me, byId, flash, onReply, onQuoteClick }: RowProps & { row: Row }) {
  if (row.kind === "day") return <div className="day">{row.label}</div>;
  if (row.kind === "unread") return <div className="unread-marker">{t.unreadMarker(row.count)}</div>;
  if (row.kind === "note") return <NoteRow note={row.note} />;
  if (row.kind === "history") return <HistoryRow change={row.change} me={me} />;
  return (
    <MessageBubble
      message={row.message}
      grouped={row.grouped}
      me={me}
      onReply={onReply}
      quoted={row.message.reply_to ? byId.get(row.message.reply_to) : undefined}
      onQuoteClick={onQuoteClick}
      flash={row.message.id === flash}
    />
  );
}

/** The topmost row's day, floating over the thread while its own separator is scrolled away. */
export function DayFloat({ day }: { day: string | null }) {
  if (!day) return null;
  return (
    <div className="day-float" aria-hidden="true">
      {day}
    </div>
  );
}
