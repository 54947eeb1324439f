// Small pure helpers for what the inbox shows: times, sizes, names, colours.

import { t } from "./strings";

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** A list row's time: HH:MM today, "Yesterday", the weekday within a week, else the date. */
export function listTime(iso: string | null, now = new Date()): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (sameDay(d, now)) return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (sameDay(d, yesterday)) return t.yesterday;
  if (now.getTime() - d.getTime() < 6 * 86_400_000) return d.toLocaleDateString([], { weekday: "long" });
  return d.toLocaleDateString([], { day: "numeric", month: "short", year: "numeric" });
}

/** A date separator in the thread: "Today", "Yesterday", the weekday, or the full date. */
export function dayLabel(iso: string, now = new Date()): string {
  const d = new Date(iso);
  if (sameDay(d, now)) return t.today;
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (sameDay(d, yesterday)) return t.yesterday;
  if (now.getTime() - d.getTime() < 6 * 86_400_000) return d.toLocaleDateString([], { weekday: "long" });
  return d.toLocaleDateString([], { day: "numeric", month: "long", year: "numeric" });
}

/**
 * A timestamp of the API as a number that orders like the time: microseconds since the epoch.
 * The server writes six fractional digits, or none when they are all zero, so comparing the
 * strings would put "…:05Z" after "…:05.2Z".
 */
export function timeKey(iso: string): number {
  const fraction = /\.(\d+)/.exec(iso)?.[1] ?? "";
  const micros = Number(`${fraction}000000`.slice(3, 6)); // what Date.parse's milliseconds drop
  return Date.parse(iso) * 1000 + micros;
}

/** Order by time, then by id (two things in the same microsecond). */
export function byTime(a: { created_at: string; id: number }, b: { created_at: string; id: number }): number {
  return timeKey(a.created_at) - timeKey(b.created_at) || a.id - b.id;
}

export function dayKey(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/** A moment in full, the one way the inbox writes a date and time (the manager's locale). */
export function moment(iso: string): string {
  return new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

/** A day, as the inbox writes dates without a time (an order's). */
export function day(iso: string): string {
  return new Date(iso).toLocaleDateString([], { dateStyle: "medium" });
}

/** An amount as the manager's locale writes it (a decimal comma where that is the custom). */
export function amount(value: string): string {
  const n = Number(value);
  return Number.isFinite(n) ? n.toLocaleString([], { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : value;
}

export function clock(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export function fileSize(bytes: number | null): string {
  if (bytes === null) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function duration(ms: number | null): string {
  if (!ms) return "";
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export function initials(name: string | null | undefined): string {
  const parts = (name ?? "").trim().split(/\s+/).filter(Boolean);
  if (parts.length === 0) return "?";
  const first = parts[0]?.[0] ?? "";
  const last = parts.length > 1 ? (parts[parts.length - 1]?.[0] ?? "") : "";
  return (first + last).toUpperCase();
}

/** A stable colour for an avatar without a picture. */
export function colourFor(id: number): string {
  return `hsl(${(id * 137) % 360} 55% 45%)`;
}

/** The box a media element reserves before it loads, from the stored dimensions. */
export function mediaBox(width: number | null, height: number | null, max = 320): { width: number; height: number } {
  if (!width || !height) return { width: max, height: Math.round(max * 0.75) };
  const scale = Math.min(1, max / Math.max(width, height));
  return { width: Math.max(48, Math.round(width * scale)), height: Math.max(48, Math.round(height * scale)) };
}

/** When a snooze can end: in three hours, tomorrow at 9:00, next Monday at 9:00 (local time). */
export function snoozeChoices(now = new Date()): { key: "later" | "tomorrow" | "nextWeek"; until: Date }[] {
  const later = new Date(now.getTime() + 3 * 3_600_000);
  const tomorrow = new Date(now);
  tomorrow.setDate(now.getDate() + 1);
  tomorrow.setHours(9, 0, 0, 0);
  const monday = new Date(now);
  monday.setDate(now.getDate() + ((8 - now.getDay()) % 7 || 7));
  monday.setHours(9, 0, 0, 0);
  return [
    { key: "later", until: later },
    { key: "tomorrow", until: tomorrow },
    { key: "nextWeek", until: monday },
  ];
}

/** A snooze's end, whole: "today, 18:00", else the weekday, date and time ("Fri 9 Jan, 09:00"),
 * with the year when it is not this one. */
export function untilLabel(iso: string, now = new Date()): string {
  const d = new Date(iso);
  const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (sameDay(d, now)) return `${t.snooze.today}, ${time}`;
  const year = d.getFullYear() !== now.getFullYear() ? "numeric" : undefined;
  return `${d.toLocaleDateString([], { weekday: "short", day: "numeric", month: "short", year })}, ${time}`;
}

/** A `datetime-local` input's value for a moment (local time, to the minute). */
export function localInputValue(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
