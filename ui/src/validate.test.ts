import { describe, expect, it } from 'vitest';

import {
  checkArns,
  checkMountPath,
  checkPolicyDocument,
  checkSecretPath,
  findJsonError,
  lineColumn,
  parseJson,
  parsePairs,
  splitList,
} from './validate';

describe('parseJson', () => {
  it('places a syntax error at its line and column', () => {
    const r = parseJson('{\n  "Version": "2012-10-17",\n  "Statement": [}\n}');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toBe('Invalid JSON at line 3, column 17: unexpected "}"');
  });
  it('names the usual mistakes', () => {
    const msg = (t: string) => {
      const r = parseJson(t);
      return r.ok ? 'ok' : r.message;
    };
    expect(msg('{"a": 1,}')).toBe('Invalid JSON at line 1, column 9: a comma before "}"');
    expect(msg('[1, 2,]')).toBe('Invalid JSON at line 1, column 7: a comma before "]"');
    expect(msg("{'a': 1}")).toBe('Invalid JSON at line 1, column 2: expected a "quoted" key, found "\'"');
    expect(msg('{"a" 1}')).toBe('Invalid JSON at line 1, column 6: expected \':\' after a key, found "1"');
    expect(msg('{"a": "x\n"}')).toBe(
      'Invalid JSON at line 1, column 9: a control character (a line break?) inside a string',
    );
    expect(msg('{"a": tru}')).toBe('Invalid JSON at line 1, column 7: unexpected "t"');
    expect(msg('{} {}')).toBe('Invalid JSON at line 1, column 4: unexpected "{" after the end of the document');
    expect(msg('')).toBe('Invalid JSON at line 1, column 1: the text ends too early');
  });
  it('finds no error where JSON.parse finds none', () => {
    for (const t of ['{"a":[1,-2.5e3,true,false,null,"\\u00e9\\n"]}', ' [] ', '"x"', '0', '{"":{}}']) {
      expect(JSON.parse(t)).toBeDefined();
      expect(findJsonError(t)).toBeNull();
    }
  });
  it('places a truncated document at its end', () => {
    const r = parseJson('{"a": [1, 2');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toBe("Invalid JSON at line 1, column 12: expected ',' or ']', found the end");
  });
  it('parses valid JSON', () => {
    expect(parseJson('{"a":1}')).toEqual({ ok: true, value: { a: 1 } });
  });
  it('counts lines and columns from 1', () => {
    expect(lineColumn('ab\ncd', 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });
});

describe('checkPolicyDocument', () => {
  const ok = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}';
  it('takes an IAM policy and an empty field', () => {
    expect(checkPolicyDocument(ok).ok).toBe(true);
    expect(checkPolicyDocument('   ').ok).toBe(true);
    expect(checkPolicyDocument('{"Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}').ok).toBe(true);
  });
  it('refuses what IAM would refuse', () => {
    expect(checkPolicyDocument('[1]')).toEqual({ ok: false, message: 'A policy document is a JSON object' });
    expect(checkPolicyDocument('{"Version":"2012-10-17"}')).toEqual({
      ok: false,
      message: 'A policy document needs a "Statement"',
    });
    expect(checkPolicyDocument('{"Statement":[{"Effect":"allow"}]}')).toEqual({
      ok: false,
      message: 'Statement 1: "Effect" must be "Allow" or "Deny"',
    });
    expect(checkPolicyDocument('{"Statement":')).toMatchObject({ ok: false });
  });
});

describe('lists, ARNs and paths', () => {
  it('splits on commas and lines', () => {
    expect(splitList('a, b\n\nc,')).toEqual(['a', 'b', 'c']);
  });
  it('checks ARNs', () => {
    expect(checkArns('arn:aws:iam::123456789012:role/deployer\narn:aws:iam::aws:policy/ReadOnlyAccess')).toEqual({
      ok: true,
      value: ['arn:aws:iam::123456789012:role/deployer', 'arn:aws:iam::aws:policy/ReadOnlyAccess'],
    });
    expect(checkArns('arn:aws-us-gov:iam::123456789012:role/x').ok).toBe(true);
    expect(checkArns('')).toEqual({ ok: true, value: [] });
    expect(checkArns('deployer')).toEqual({ ok: false, message: 'Not an ARN: deployer' });
    expect(checkArns('arn:aws:iam::12345:role/x').ok).toBe(false);
  });
  it('checks secret and mount paths', () => {
    expect(checkSecretPath('app/db')).toEqual({ ok: true, value: 'app/db' });
    expect(checkSecretPath('/app').ok).toBe(false);
    expect(checkSecretPath('app/').ok).toBe(false);
    expect(checkSecretPath('app/../x').ok).toBe(false);
    expect(checkSecretPath('a//b').ok).toBe(false);
    expect(checkMountPath('aws')).toEqual({ ok: true, value: 'aws/' });
    expect(checkMountPath('team/kv/')).toEqual({ ok: true, value: 'team/kv/' });
    expect(checkMountPath('a b').ok).toBe(false);
    expect(checkMountPath('..').ok).toBe(false);
  });
  it('parses key=value pairs', () => {
    expect(parsePairs('team=infra\ncost-centre = 42')).toEqual({
      ok: true,
      value: { team: 'infra', 'cost-centre': '42' },
    });
    expect(parsePairs('novalue').ok).toBe(false);
  });
});
