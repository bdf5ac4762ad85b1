// Checks made in the browser before a form is sent: the server checks everything again, these
// only point at the mistake where it is.

export type Check<T> = { ok: true; value: T } | { ok: false; message: string };

// Line and column (1-based) of a character offset.
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1].length + 1 };
}

// JSON.parse, with a syntax error placed at its line and column: "Invalid JSON at line 3,
// column 17: unexpected '}'". Browsers word and place JSON.parse's errors differently (newer
// engines give no position at all), so the place comes from a small scanner of our own.
export function parseJson(text: string): Check<unknown> {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    const found = findJsonError(text);
    if (!found) return { ok: false, message: `Invalid JSON: ${e instanceof Error ? e.message : String(e)}` };
    const p = lineColumn(text, found.offset);
    return { ok: false, message: `Invalid JSON at line ${p.line}, column ${p.column}: ${found.reason}` };
  }
}

// The first syntax error of a JSON text (RFC 8259), or null when it has none.
export function findJsonError(text: string): { offset: number; reason: string } | null {
  let i = 0;
  class Stop {
    constructor(
      readonly offset: number,
      readonly reason: string,
    ) {}
  }
  const fail = (reason: string, at = i): never => {
    throw new Stop(at, reason);
  };
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const describe = () => (i >= text.length ? 'the text ends too early' : `unexpected ${JSON.stringify(text[i])}`);
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail(describe());
  };
  const string = () => {
    i++; // the opening quote
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        i++;
        return;
      }
      if (c === '\\') {
        const n = text[i + 1];
        if (n === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('a \\u escape needs four hex digits');
          i += 6;
        } else if (n !== undefined && '"\\/bfnrt'.includes(n)) i += 2;
        else fail(`invalid escape ${JSON.stringify('\\' + (n ?? ''))}`);
        continue;
      }
      if (c < ' ') fail('a control character (a line break?) inside a string');
      i++;
    }
    fail('a string is not closed (missing ")');
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m || m[0] === '' || m[0] === '-') fail(describe());
    else i += m[0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"')
          fail(
            text[i] === '}'
              ? 'a comma before "}"'
              : `expected a "quoted" key, found ${i >= text.length ? 'the end' : JSON.stringify(text[i])}`,
          );
        string();
        ws();
        if (text[i] !== ':')
          fail(`expected ':' after a key, found ${i >= text.length ? 'the end' : JSON.stringify(text[i])}`);
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        fail(`expected ',' or '}', found ${i >= text.length ? 'the end' : JSON.stringify(text[i])}`);
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        if (text[i] === ']') fail('a comma before "]"');
        value();
        ws();
        if (text[i] === ',') {
          i++;
          ws();
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        fail(`expected ',' or ']', found ${i >= text.length ? 'the end' : JSON.stringify(text[i])}`);
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    fail(describe());
  };
  try {
    value();
    ws();
    if (i < text.length) fail(`unexpected ${JSON.stringify(text[i])} after the end of the document`);
    return null;
  } catch (e) {
    if (e instanceof Stop) return { offset: e.offset, reason: e.reason };
    throw e;
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
