// The thread's rows, from the conversation's messages, notes and history: pure, so a change
// of any of them is a new list of rows the virtualised list reconciles by key.

import type { HistoryEvent, Message, Note } from "../api/types";
import { dayKey, dayLabel, timeKey } from "../format";

const GROUP_WINDOW = 5 * 60_000;

export type Row =
  | { kind: "day"; key: string; label: string }
  | { kind: "unread"; key: string; count: number }
  | { kind: "message"; key: string; message: Message; grouped: boolean }
  | { kind: "note"; key: string; note: Note }
  | { kind: "history"; key: string; change: HistoryEvent };

function senderKey(m: Message): string {
  return `${m.direction}:${m.sender.type}:${m.sender.id ?? ""}`;
}

/** Where the unread messages began when the conversation was opened, and how many there were. */
export interface UnreadMark {
  from: number;
  count: number;
}

/**
 * The thread's rows: date separators, the unread marker, messages grouped by sender, and, where
 * they happened, the team's private notes and the changes to the conversation (`history`,
 * which come with the pages of their time). While older messages are still to be loaded, notes
 * older than the first loaded message wait for them (they would show out of place). The
 * marker says what was unread on opening: messages read as they arrived do not add to it.
 */
export function buildRows(
  messages: Message[],
  unread: UnreadMark | null,
  notes: Note[] = [],
  olderToLoad = false,
  history: HistoryEvent[] = [],
): Row[] {
  const first = messages[0]?.created_at;
  const shown = olderToLoad && first !== undefined ? notes.filter((n) => timeKey(n.created_at) >= timeKey(first)) : notes;
  type Entry =
    | { at: string; message: Message; note?: undefined; change?: undefined }
    | { at: string; note: Note; message?: undefined; change?: undefined }
    | { at: string; change: HistoryEvent; message?: undefined; note?: undefined };
  const entries: Entry[] = messages.map((m) => ({ at: m.created_at, message: m }));
  const extras: Entry[] = [...shown.map((n) => ({ at: n.created_at, note: n })), ...history.map((h) => ({ at: h.created_at, change: h }))].sort(
    (a, b) => timeKey(a.at) - timeKey(b.at),
  );
  let i = 0;
  for (const extra of extras) {
    while (i < entries.length && timeKey(entries[i]!.at) <= timeKey(extra.at)) i++;
    entries.splice(i, 0, extra);
    i++;
  }
  const rows: Row[] = [];
  let previousAt: string | null = null;
  let previous: Message | null = null;
  for (const entry of entries) {
    const day = dayKey(entry.at);
    const newDay = previousAt === null || dayKey(previousAt) !== day;
    if (newDay) rows.push({ kind: "day", key: `d${day}`, label: dayLabel(entry.at) });
    previousAt = entry.at;
    if (entry.note) {
      rows.push({ kind: "note", key: `n${entry.note.id}`, note: entry.note });
      previous = null; // a note between two messages ends their group
      continue;
    }
    if (entry.change) {
      rows.push({ kind: "history", key: `h${entry.change.id}`, change: entry.change });
      previous = null;
      continue;
    }
    const m = entry.message;
    let unreadRow = false;
    if (unread !== null && m.id === unread.from) {
      rows.push({ kind: "unread", key: "unread", count: unread.count });
      unreadRow = true;
    }
    const grouped =
      !newDay &&
      !unreadRow &&
      previous !== null &&
      senderKey(previous) === senderKey(m) &&
      new Date(m.created_at).getTime() - new Date(previous.created_at).getTime() < GROUP_WINDOW;
    rows.push({ kind: "message", key: m.id < 0 ? `t${m.client_txn_id}` : `m${m.id}`, message: m, grouped });
    previous = m;
  }
  return rows;
}

/** When the row was: what the floating day over the thread says while its separator is away. */
export function whenOf(row: Row | undefined): string | null {
  if (row?.kind === "message") return row.message.created_at;
  if (row?.kind === "note") return row.note.created_at;
  if (row?.kind === "history") return row.change.created_at;
  return null;
}

/** The floating day's label when `at` is the topmost row: none over a day separator. */
export function floatingDay(rows: Row[], at: number): string | null {
  const top = rows[at];
  const when = whenOf(rows.slice(at).find((r) => r.kind !== "day" && r.kind !== "unread"));
  return top && top.kind !== "day" && when ? dayLabel(when) : null;
}
