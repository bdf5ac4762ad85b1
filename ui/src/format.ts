// Durations and times as a person reads them.

const UNITS: Array<[string, number]> = [
  ['d', 86400],
  ['h', 3600],
  ['m', 60],
  ['s', 1],
];

// 0 -> "0s", 90 -> "1m 30s", 3600 -> "1h", 93784 -> "1d 2h": the two largest units, whole.
// Negative or NaN -> "expired".
export function formatTtl(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return 'expired';
  let rest = Math.floor(seconds);
  if (rest === 0) return '0s';
  const parts: string[] = [];
  for (const [unit, size] of UNITS) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
    if (parts.length === 2) break;
    if (parts.length === 1 && rest === 0) break;
  }
  return parts.join(' ');
}

// An RFC 3339 time as "2026-12-07 14:03:22 UTC" (UTC: unambiguous across a team); "" for none or
// Go's zero time, the text itself when it is not a time.
export function formatTime(iso: string | null | undefined): string {
  if (!iso || iso.startsWith('0001-01-01')) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return new Date(t)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC')
    .replace(/Z$/, ' UTC');
}

// Seconds from `now` (ms since the epoch) until an RFC 3339 time; null when there is none.
export function secondsUntil(iso: string | null | undefined, now: number): number | null {
  if (!iso || iso.startsWith('0001-01-01')) return null;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return null;
  return Math.floor((t - now) / 1000);
}

// A TTL as the server takes it: a whole number of seconds or a Go duration ("90s", "1h30m",
// "1.5h"). Returns seconds, or null when the text is neither. "" -> 0 (the default).
export function parseDuration(text: string): number | null {
  const s = text.trim();
  if (s === '') return 0;
  if (/^\d+$/.test(s)) return Number(s);
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    const n = Number(m[1]);
    const unit = m[2];
    total += unit === 'h' ? n * 3600 : unit === 'm' ? n * 60 : unit === 's' ? n : n / 1000;
    matched = re.lastIndex;
  }
  if (matched !== s.length) return null;
  return Math.round(total);
}

// Seconds as a duration to type back: 1200 -> "20m", 5400 -> "1h30m", 45 -> "45s", 0 -> "".
export function durationText(seconds: number): string {
  if (!seconds || seconds < 0) return '';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
}
