/** Times and amounts as people read them. */

const two = (n: number) => String(n).padStart(2, "0");

/** An ISO instant in the browser's zone as `YYYY-MM-DD HH:mm:ss` (unambiguous in every locale), or a dash. */
export function when(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** "in 3 h 20 m" / "5 m ago" relative to `now`. */
export function relative(iso: string | null | undefined, now: number): string {
  if (!iso) return "";
  const ms = Date.parse(iso) - now;
  const abs = Math.abs(ms);
  const parts: string[] = [];
  const d = Math.floor(abs / 86_400_000);
  const h = Math.floor((abs % 86_400_000) / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  const s = Math.floor((abs % 60_000) / 1000);
  if (d) parts.push(`${d} d`);
  if (h) parts.push(`${h} h`);
  if (m && !d) parts.push(`${m} m`);
  if (!d && !h && !m) parts.push(`${s} s`);
  const text = parts.slice(0, 2).join(" ");
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

/** A trigger in a few words. */
export function describeTrigger(t: { type: string } & Record<string, unknown>): string {
  switch (t.type) {
    case "cron":
      return `cron ${String(t.expression)} (${String(t.timezone)})`;
    case "interval":
      return `every ${duration(Number(t.every))}`;
    case "once":
      return `once at ${when(String(t.at))}`;
    case "market": {
      const off = Number(t.offsetMinutes);
      const rel = off === 0 ? "at" : off > 0 ? `${off} min after` : `${-off} min before`;
      return `${rel} the ${String(t.event)} (${String(t.calendar)})`;
    }
    default:
      return t.type;
  }
}

/** Milliseconds as 30 s / 15 m / 4 h. */
export function duration(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} m`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

/** JSON for people: compact for short values, indented otherwise. */
export function json(value: unknown): string {
  const short = JSON.stringify(value);
  return short !== undefined && short.length <= 60 ? short : JSON.stringify(value, null, 2);
}
