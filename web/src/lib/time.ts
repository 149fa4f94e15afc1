/** Times shown in the console: ages of cases, time left before a legal deadline. */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A length of time in at most two units: "45 s", "12 min", "3 h 5 min", "2 d 4 h". */
export function formatDuration(ms: number): string {
  const t = Math.max(0, Math.floor(ms));
  if (t < MINUTE) return `${Math.floor(t / 1000)} s`;
  if (t < HOUR) return `${Math.floor(t / MINUTE)} min`;
  if (t < DAY) {
    const h = Math.floor(t / HOUR);
    const m = Math.floor((t % HOUR) / MINUTE);
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  const d = Math.floor(t / DAY);
  const h = Math.floor((t % DAY) / HOUR);
  return h ? `${d} d ${h} h` : `${d} d`;
}

/** How long ago `iso` was, as a duration ("3 h"); an unreadable time gives "—". */
export function ageOf(iso: string, now: number): string {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? formatDuration(now - t) : '—';
}

export interface TimeLeft {
  text: string;
  overdue: boolean;
  /** Less than `urgentMs` left (default 8 hours, the emergency deadline). */
  urgent: boolean;
}

/** Time left before a deadline: "2 d 4 h left", or "overdue by 3 h". */
export function timeLeft(dueIso: string, now: number, urgentMs = 8 * HOUR): TimeLeft {
  const due = Date.parse(dueIso);
  if (!Number.isFinite(due)) return { text: '—', overdue: false, urgent: false };
  const left = due - now;
  if (left < 0) return { text: `overdue by ${formatDuration(-left)}`, overdue: true, urgent: true };
  return { text: `${formatDuration(left)} left`, overdue: false, urgent: left < urgentMs };
}

/** A `datetime-local` input's value (local time) as RFC 3339 UTC; '' when empty or unreadable. */
export function localInputToIso(value: string): string {
  if (!value) return '';
  const t = new Date(value).getTime();
  return Number.isFinite(t) ? new Date(t).toISOString() : '';
}

/** RFC 3339 as a `datetime-local` value in the local time zone, to the minute. */
export function isoToLocalInput(iso: string): string {
  const d = new Date(iso);
  if (!Number.isFinite(d.getTime())) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** A time for people: "28 Nov 2026, 18:01" in the reader's locale and zone. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (!Number.isFinite(d.getTime())) return '—';
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
