// Local wall-clock time for the manager screens: `datetime-local` input
// strings ⇄ epoch milliseconds, midnight, and labels for hour bars.
// Everything here is in the till's local time zone.

import type { Language } from "./bindings";

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** Epoch ms → "YYYY-MM-DDTHH:MM", the value a `datetime-local` input takes. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * A `datetime-local` value ("YYYY-MM-DDTHH:MM", seconds optional) → epoch
 * ms in local time; `null` when empty or not a real date (31 February).
 */
export function fromLocalInput(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec(text.trim());
  if (!m) return null;
  const [year, month, day, hour, minute, second, fraction] = [
    Number(m[1]),
    Number(m[2]),
    Number(m[3]),
    Number(m[4]),
    Number(m[5]),
    Number(m[6] ?? 0),
    Number((m[7] ?? "0").padEnd(3, "0")),
  ];
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return null;
  const d = new Date(year, month - 1, day, hour, minute, second, fraction);
  // Date rolls 31 February over into March: refuse it.
  if (d.getFullYear() !== year || d.getMonth() !== month - 1 || d.getDate() !== day) return null;
  return d.getTime();
}

/** The local midnight that starts the day of `ms`. */
export function startOfLocalDay(ms: number): number {
  const d = new Date(ms);
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

/** "YYYY-MM-DD" of the local day, for file names. */
export function localDateStamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** "HH:MM:SS" local. */
export function clockWithSeconds(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Whether the instants fall on more than one local day. */
export function spansSeveralDays(instants: number[]): boolean {
  return new Set(instants.map(startOfLocalDay)).size > 1;
}

/** An hour bar's label: "14:00", or with the day ("24.06. 14:00", "24/06 14:00"). */
export function hourLabel(ms: number, withDay: boolean, language: Language): string {
  const hour = `${pad(new Date(ms).getHours())}:00`;
  return withDay ? `${dayLabel(ms, language)} ${hour}` : hour;
}

/** The local day, short: "24.06." (de) or "24/06" (en). */
export function dayLabel(ms: number, language: Language): string {
  const d = new Date(ms);
  return language === "de" ? `${pad(d.getDate())}.${pad(d.getMonth() + 1)}.` : `${pad(d.getDate())}/${pad(d.getMonth() + 1)}`;
}

/**
 * Labels for a run of hour bars: with the day only when they span several
 * days. With `timeZone` (the event's), in that zone whatever the till's
 * clock is set to; an hour that comes twice (the night the clocks go back)
 * carries its UTC offset, so the two bars read apart.
 */
export function hourLabels(starts: number[], language: Language, timeZone?: string): string[] {
  if (!timeZone) {
    const withDay = spansSeveralDays(starts);
    return starts.map((ms) => hourLabel(ms, withDay, language));
  }
  const zoned = starts.map((ms) => zonedParts(ms, timeZone));
  const withDay = new Set(zoned.map((p) => `${p.year}-${p.month}-${p.day}`)).size > 1;
  const plain = zoned.map((p) => {
    const hour = `${p.hour}:00`;
    const day = language === "de" ? `${p.day}.${p.month}.` : `${p.day}/${p.month}`;
    return withDay ? `${day} ${hour}` : hour;
  });
  return plain.map((label, i) =>
    plain.indexOf(label) !== plain.lastIndexOf(label) ? `${label} (${zoned[i].offset})` : label,
  );
}

type ZonedParts = { year: string; month: string; day: string; hour: string; offset: string };

function zonedParts(ms: number, timeZone: string): ZonedParts {
  const format = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    hourCycle: "h23",
    timeZoneName: "shortOffset",
  });
  const parts = Object.fromEntries(format.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return {
    year: parts.year ?? "",
    month: parts.month ?? "",
    day: parts.day ?? "",
    hour: parts.hour ?? "",
    offset: parts.timeZoneName ?? "",
  };
}

/** Local date and time, short: "24.06. 14:05" / "24/06 14:05". */
export function shortDateTime(ms: number, language: Language): string {
  const d = new Date(ms);
  return `${dayLabel(ms, language)} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
