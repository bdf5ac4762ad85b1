// Checks made in the browser before a form is sent: the server checks everything again, these
// only point at the mistake where it is.

export type Check<T> = { ok: true; value: T } | { ok: false; message: string };

// Line and column (1-based) of a character offset.
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

// JSON.parse with its error placed: "line 2, column 5: Unexpected token...". Engines word the
// error differently; V8 gives "at position N", sometimes with "(line L column C)".
export function parseJson(text: string): Check<unknown> {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    const raw = e instanceof Error ? e.message : String(e);
    const lc = /\(line (\d+) column (\d+)\)/.exec(raw);
    const pos = /at position (\d+)/.exec(raw);
    let where = '';
    if (lc) where = `line ${lc[1]}, column ${lc[2]}`;
    else if (pos) {
      const p = lineColumn(text, Number(pos[1]));
      where = `line ${p.line}, column ${p.column}`;
    } else if (/end of (JSON )?input/i.test(raw)) {
      const p = lineColumn(text, text.length);
      where = `line ${p.line}, column ${p.column}`;
    }
    const reason = raw
      .replace(/^JSON\.parse: /, '')
      .replace(/\s*\(line \d+ column \d+\)/, '')
      .replace(/\s*in JSON at position \d+/, '')
      .replace(/, "[^"]*" is not valid JSON$/, '');
    return { ok: false, message: where ? `Invalid JSON at ${where}: ${reason}` : `Invalid JSON: ${reason}` };
  }
}

// An IAM policy document: JSON, an object with a Statement (an object or a list of them), each with
// Effect Allow or Deny. "" is allowed (the field is optional).
export function checkPolicyDocument(text: string): Check<string> {
  if (text.trim() === '') return { ok: true, value: '' };
  const parsed = parseJson(text);
  if (!parsed.ok) return parsed;
  const doc = parsed.value;
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return { ok: false, message: 'A policy document is a JSON object' };
  }
  const statement = (doc as Record<string, unknown>).Statement;
  if (statement === undefined) return { ok: false, message: 'A policy document needs a "Statement"' };
  const list = Array.isArray(statement) ? statement : [statement];
  for (let i = 0; i < list.length; i++) {
    const s = list[i];
    if (s === null || typeof s !== 'object' || Array.isArray(s)) {
      return { ok: false, message: `Statement ${i + 1} is not an object` };
    }
    const effect = (s as Record<string, unknown>).Effect;
    if (effect !== 'Allow' && effect !== 'Deny') {
      return { ok: false, message: `Statement ${i + 1}: "Effect" must be "Allow" or "Deny"` };
    }
  }
  return { ok: true, value: text };
}

// Items of a list typed one per line or separated by commas.
export function splitList(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

// arn:partition:service:region:account:resource; the account is 12 digits, "aws" (AWS managed
// policies) or empty (S3).
const ARN = /^arn:aws(-[a-z]+)*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}|aws)?:\S+$/;

export function checkArns(text: string): Check<string[]> {
  const items = splitList(text);
  for (const a of items) {
    if (!ARN.test(a)) return { ok: false, message: `Not an ARN: ${a}` };
  }
  return { ok: true, value: items };
}

// A secret's path inside a KV mount: no leading slash, no empty, "." or ".." segment.
export function checkSecretPath(path: string): Check<string> {
  const p = path.trim();
  if (p === '') return { ok: false, message: 'A path is needed' };
  if (p.startsWith('/')) return { ok: false, message: 'The path starts inside the mount: no leading "/"' };
  if (p.endsWith('/')) return { ok: false, message: 'A secret’s path does not end with "/" (that is a folder)' };
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.' || seg === '..') return { ok: false, message: `Not a valid path: ${p}` };
  }
  return { ok: true, value: p };
}

// A mount path: letters, digits and -_./ with no empty segment; "aws" and "aws/" are the same.
export function checkMountPath(path: string): Check<string> {
  const p = path.trim().replace(/\/+$/, '');
  if (p === '') return { ok: false, message: 'A path is needed' };
  if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(p) || p.split('/').some((s) => s === '.' || s === '..')) {
    return { ok: false, message: 'Use letters, digits, "-", "_", "." and "/" between names' };
  }
  return { ok: true, value: p + '/' };
}

// key=value lines (IAM tags) -> an object.
export function parsePairs(text: string): Check<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const line of splitList(text)) {
    const eq = line.indexOf('=');
    if (eq <= 0) return { ok: false, message: `Not key=value: ${line}` };
    out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return { ok: true, value: out };
}
