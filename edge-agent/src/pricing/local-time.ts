/**
 * Store-local wall-clock times ↔ instants, for time-of-day markdowns. Uses Intl only (the IANA
 * database Node ships), so "20:00 in Europe/Berlin" is 19:00Z in winter and 18:00Z in summer.
 */
const DAY_MS = 86_400_000;
const formats = new Map<string, Intl.DateTimeFormat>();

function format(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formats.set(timeZone, f);
  }
  return f;
}

/** The wall clock at `at` in `timeZone`, written as if it were UTC (ms), seconds precision. */
function wallClock(timeZone: string, at: number): number {
  const parts: Record<string, number> = {};
  for (const p of format(timeZone).formatToParts(new Date(at))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
}

/** UTC offset of `timeZone` at `at`, ms (positive east of Greenwich). */
function offsetAt(timeZone: string, at: number): number {
  return wallClock(timeZone, Math.floor(at / 1000) * 1000) - Math.floor(at / 1000) * 1000;
}

/** The local calendar day of `at` as the UTC midnight of that date (a day number × DAY_MS). */
export function localDate(timeZone: string, at: number): number {
  return Math.floor(wallClock(timeZone, at) / DAY_MS) * DAY_MS;
}

/**
 * The instant the local wall clock in `timeZone` reads `date` (a UTC midnight) + `minutes`.
 * A time that occurs twice (clocks going back) is the earlier instant; a time that does not
 * occur (clocks going forward) is moved forward by the gap, e.g. 02:30 on the spring-forward
 * day in Berlin is 03:30 CEST — the same choice as Temporal's "compatible" disambiguation.
 */
export function zonedInstant(timeZone: string, date: number, minutes: number): number {
  const wall = date + minutes * 60_000;
  const before = offsetAt(timeZone, wall - DAY_MS / 2);
  const after = offsetAt(timeZone, wall + DAY_MS / 2);
  const valid = [wall - before, wall - after].filter((t) => offsetAt(timeZone, t) === wall - t);
  if (valid.length > 0) return Math.min(...valid);
  return wall - before;
}

/** "20:30" → 1230. */
export function minutesOf(localTime: string): number {
  const [h, m] = localTime.split(':').map(Number);
  return h! * 60 + m!;
}

/**
 * The daily windows [from, until) of local times `fromMinutes`–`untilMinutes` (absent: the
 * next midnight) whose local day lies in [localDate(start) − 1 day, localDate(end) + 1 day].
 */
export function dailyWindows(timeZone: string, fromMinutes: number, untilMinutes: number | undefined, start: number, end: number): Array<[number, number]> {
  const windows: Array<[number, number]> = [];
  const last = localDate(timeZone, end) + DAY_MS;
  for (let day = localDate(timeZone, start) - DAY_MS; day <= last; day += DAY_MS) {
    const a = zonedInstant(timeZone, day, fromMinutes);
    const b = untilMinutes === undefined ? zonedInstant(timeZone, day + DAY_MS, 0) : zonedInstant(timeZone, day, untilMinutes);
    if (b > a) windows.push([a, b]);
  }
  return windows;
}

export { DAY_MS };
