import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchPath, pathTo } from '../web/src/lib/paths.ts';
import { ageOf, formatDuration, isoToLocalInput, localInputToIso, timeLeft } from '../web/src/lib/time.ts';

describe('client routes (web/src/lib/paths.ts)', () => {
  it('matches patterns with parameters, ignoring trailing slashes and the query', () => {
    assert.deepEqual(matchPath('/console/cases/:id', '/console/cases/case_1'), { id: 'case_1' });
    assert.deepEqual(matchPath('/console/cases/:id', '/console/cases/case_1/?x=1'), { id: 'case_1' });
    assert.deepEqual(matchPath('/console/cases', '/console/cases/'), {});
    assert.equal(matchPath('/console/cases/:id', '/console/cases'), null);
    assert.equal(matchPath('/console/cases/:id', '/console/cases/a/b'), null);
    assert.equal(matchPath('/console/legal/:id', '/console/cases/x'), null);
    assert.deepEqual(matchPath('/portal/*', '/portal/orders/lr_1'), { '*': 'orders/lr_1' });
  });

  it('decodes parameters and refuses undecodable ones; pathTo encodes', () => {
    assert.deepEqual(matchPath('/console/cases/:id', '/console/cases/a%2Fb'), { id: 'a/b' });
    assert.equal(matchPath('/console/cases/:id', '/console/cases/%E0%A4%A'), null);
    assert.equal(pathTo('/console/cases/:id', { id: 'a/b c' }), '/console/cases/a%2Fb%20c');
  });
});

describe('times in the console (web/src/lib/time.ts)', () => {
  const now = Date.parse('2026-03-10T12:00:00Z');

  it('writes durations in at most two units', () => {
    assert.equal(formatDuration(42_000), '42 s');
    assert.equal(formatDuration(5 * 60_000 + 59_000), '5 min');
    assert.equal(formatDuration(3 * 3_600_000), '3 h');
    assert.equal(formatDuration(3 * 3_600_000 + 5 * 60_000), '3 h 5 min');
    assert.equal(formatDuration(2 * 86_400_000 + 4 * 3_600_000 + 59 * 60_000), '2 d 4 h');
    assert.equal(formatDuration(-5), '0 s');
    assert.equal(ageOf('2026-03-10T09:30:00Z', now), '2 h 30 min');
    assert.equal(ageOf('not a time', now), '—');
  });

  it('says how long is left before a deadline, and when it is urgent or overdue', () => {
    assert.deepEqual(timeLeft('2026-03-20T12:00:00Z', now), { text: '10 d left', overdue: false, urgent: false });
    assert.deepEqual(timeLeft('2026-03-10T19:00:00Z', now), { text: '7 h left', overdue: false, urgent: true });
    assert.deepEqual(timeLeft('2026-03-10T09:00:00Z', now), { text: 'overdue by 3 h', overdue: true, urgent: true });
  });

  it('converts datetime-local values (local time) to RFC 3339 and back', () => {
    const iso = localInputToIso('2026-03-10T08:15');
    assert.match(iso, /^2026-03-\d\dT\d\d:15:00\.000Z$/);
    assert.equal(isoToLocalInput(iso), '2026-03-10T08:15');
    assert.equal(localInputToIso(''), '');
    assert.equal(localInputToIso('yesterday'), '');
    assert.equal(isoToLocalInput('nope'), '');
  });
});
