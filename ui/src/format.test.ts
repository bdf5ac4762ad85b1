import { describe, expect, it } from 'vitest';

import { durationText, formatTime, formatTtl, parseDuration, secondsUntil } from './format';

describe('formatTtl', () => {
  it('shows the two largest units', () => {
    expect(formatTtl(0)).toBe('0s');
    expect(formatTtl(42)).toBe('42s');
    expect(formatTtl(60)).toBe('1m');
    expect(formatTtl(90)).toBe('1m 30s');
    expect(formatTtl(3600)).toBe('1h');
    expect(formatTtl(3599)).toBe('59m 59s');
    expect(formatTtl(3661)).toBe('1h 1m');
    expect(formatTtl(86400 + 7200 + 5)).toBe('1d 2h');
    expect(formatTtl(768 * 3600)).toBe('32d');
    expect(formatTtl(59.9)).toBe('59s');
  });
  it('says expired for what is past', () => {
    expect(formatTtl(-1)).toBe('expired');
    expect(formatTtl(Number.NaN)).toBe('expired');
  });
});

describe('times', () => {
  it('formats RFC 3339 in UTC and leaves out the zero time', () => {
    expect(formatTime('2026-12-07T14:03:22.123456789Z')).toBe('2026-12-07 14:03:22 UTC');
    expect(formatTime('2026-12-07T15:03:22+01:00')).toBe('2026-12-07 14:03:22 UTC');
    expect(formatTime('0001-01-01T00:00:00Z')).toBe('');
    expect(formatTime(null)).toBe('');
    expect(formatTime('soon')).toBe('soon');
  });
  it('counts the seconds left', () => {
    const now = Date.parse('2026-12-07T14:00:00Z');
    expect(secondsUntil('2026-12-07T15:00:00Z', now)).toBe(3600);
    expect(secondsUntil('2026-12-07T13:59:30Z', now)).toBe(-30);
    expect(secondsUntil(null, now)).toBeNull();
    expect(secondsUntil('0001-01-01T00:00:00Z', now)).toBeNull();
  });
});

describe('parseDuration', () => {
  it('takes seconds and Go durations', () => {
    expect(parseDuration('')).toBe(0);
    expect(parseDuration('3600')).toBe(3600);
    expect(parseDuration('15m')).toBe(900);
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('1h0m0s')).toBe(3600);
    expect(parseDuration('1.5h')).toBe(5400);
    expect(parseDuration(' 90s ')).toBe(90);
    expect(parseDuration('1500ms')).toBe(2);
  });
  it('refuses the rest', () => {
    expect(parseDuration('1 hour')).toBeNull();
    expect(parseDuration('h')).toBeNull();
    expect(parseDuration('-5m')).toBeNull();
    expect(parseDuration('10d')).toBeNull();
  });
});

describe('durationText', () => {
  it('writes seconds as a duration parseDuration reads back', () => {
    expect(durationText(0)).toBe('');
    expect(durationText(45)).toBe('45s');
    expect(durationText(1200)).toBe('20m');
    expect(durationText(5400)).toBe('1h30m');
    expect(durationText(90061)).toBe('25h1m1s');
    for (const n of [45, 1200, 5400, 90061]) expect(parseDuration(durationText(n))).toBe(n);
  });
});
