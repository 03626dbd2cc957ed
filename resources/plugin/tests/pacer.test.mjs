// pacer.test.mjs - src/pacer.js: the spacing of Vinted requests (never under the minimum
// pace, 0-50 % jitter on top), the back-off after a 429 or a challenge with the remaining
// retry_after, and the saved state. A fake clock: no real waiting.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DEFAULT_RATE_LIMIT_S, MIN_CHALLENGE_S, MIN_PACE_MS, Pacer, backoffSeconds } from '../src/pacer.js';

/** A Pacer on a fake clock whose sleep() advances the clock; `random` is fixed or a function. */
function clockPacer({ random = 0, ...options } = {}) {
  const clock = { now: 1_700_000_000_000, slept: [] };
  const pacer = new Pacer({
    now: () => clock.now,
    random: typeof random === 'function' ? random : () => random,
    sleep: async (ms) => {
      clock.slept.push(ms);
      clock.now += ms;
    },
    ...options,
  });
  return { pacer, clock };
}

test('the minimum pace is 1000 ms whatever pace_ms says', () => {
  assert.equal(MIN_PACE_MS, 1000);
  const { pacer, clock } = clockPacer();
  pacer.touch();
  for (const paceMs of [0, 1, 500, 999, -5, Number.NaN, undefined]) {
    assert.equal(pacer.paceFor(paceMs), 1000, String(paceMs));
    assert.equal(pacer.delayFor(paceMs), 1000, String(paceMs));
  }
  assert.equal(pacer.paceFor(2500), 2500);
  assert.equal(pacer.delayFor(2500), 2500);
  clock.now += 400;
  assert.equal(pacer.delayFor(0), 600, 'counted from the last request');
  clock.now += 5000;
  assert.equal(pacer.delayFor(0), 0);
});

test('0-50 % jitter on top of the pace', () => {
  const { pacer, clock } = clockPacer({ random: 0.999999 });
  pacer.touch();
  assert.ok(Math.abs(pacer.delayFor(0) - 1500) < 0.01);
  assert.ok(Math.abs(pacer.delayFor(2000) - 3000) < 0.01);
  // a spread of random values stays in [pace, 1.5 * pace)
  let seed = 42;
  const lcg = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  pacer.random = lcg;
  const delays = Array.from({ length: 500 }, () => pacer.delayFor(500));
  assert.ok(delays.every((delay) => delay >= 1000 && delay < 1500), `${Math.min(...delays)}..${Math.max(...delays)}`);
  assert.ok(Math.max(...delays) - Math.min(...delays) > 250, 'the jitter varies');
  assert.equal(clock.slept.length, 0);
});

test('wait() sleeps the delay; the first request does not wait', async () => {
  const { pacer, clock } = clockPacer({ random: 0.5 });
  assert.equal(await pacer.wait(0), true);
  assert.deepEqual(clock.slept, []);
  pacer.touch();
  assert.equal(await pacer.wait(0), true);
  assert.deepEqual(clock.slept, [1250]);
  pacer.touch();
  assert.equal(await pacer.wait(3000), true);
  assert.deepEqual(clock.slept, [1250, 3750]);
});

test('wait() answers false at once when the pace would pass the deadline', async () => {
  const { pacer, clock } = clockPacer();
  pacer.touch();
  assert.equal(await pacer.wait(0, clock.now + 999), false);
  assert.deepEqual(clock.slept, []);
  assert.equal(await pacer.wait(0, clock.now + 1000), true);
});

test('a lower minimum only from the caller (provision.json in the plugin); bad values fall back to 1000', () => {
  const { pacer } = clockPacer({ minPaceMs: 0 });
  pacer.touch();
  assert.equal(pacer.delayFor(0), 0);
  assert.equal(pacer.delayFor(50), 50);
  pacer.setMinPace(250);
  assert.equal(pacer.delayFor(0), 250);
  for (const bad of [-1, Number.NaN, undefined, null, '0']) {
    pacer.setMinPace(bad);
    assert.equal(pacer.minPaceMs, 1000, String(bad));
  }
});

test('back-off lengths: Retry-After or 900 s after a 429, at least 1800 s after a challenge', () => {
  assert.equal(DEFAULT_RATE_LIMIT_S, 900);
  assert.equal(MIN_CHALLENGE_S, 1800);
  assert.equal(backoffSeconds('rate_limited', null), 900);
  assert.equal(backoffSeconds('rate_limited', 0), 900);
  assert.equal(backoffSeconds('rate_limited', 60), 60);
  assert.equal(backoffSeconds('challenge', null), 1800);
  assert.equal(backoffSeconds('challenge', 60), 1800);
  assert.equal(backoffSeconds('challenge', 4000), 4000);
});

test('a back-off blocks with the remaining retry_after, then ends', () => {
  const { pacer, clock } = clockPacer();
  assert.equal(pacer.blocked(), null);
  pacer.startBackoff('rate_limited', 900, 429, 'Vinted asks to slow down');
  assert.deepEqual(pacer.blocked(), { code: 'rate_limited', status: 429, message: 'Vinted asks to slow down', retry_after: 900 });
  clock.now += 100_500;
  assert.equal(pacer.blocked().retry_after, 800, 'whole seconds, rounded up');
  clock.now += 799_000;
  assert.equal(pacer.blocked().retry_after, 1);
  clock.now += 500;
  assert.equal(pacer.blocked(), null);
  assert.equal(pacer.backoff, null);
});

test('a back-off is lengthened, never shortened', () => {
  const { pacer, clock } = clockPacer();
  pacer.startBackoff('challenge', 1800, 403);
  pacer.startBackoff('rate_limited', 60, 429);
  assert.equal(pacer.blocked().code, 'challenge');
  assert.equal(pacer.blocked().retry_after, 1800);
  clock.now += 1000_000;
  pacer.startBackoff('rate_limited', 900, 429);
  assert.deepEqual(pacer.blocked(), { code: 'rate_limited', status: 429, message: null, retry_after: 900 });
});

test('the state is saved and loaded, so a restarted worker keeps the back-off', async () => {
  const saved = [];
  const first = clockPacer({ save: async (state) => saved.push(structuredClone(state)) });
  first.pacer.touch();
  first.pacer.startBackoff('challenge', 1800, 403, 'check');
  const last = saved.at(-1);
  assert.equal(last.lastAt, first.clock.now);
  assert.equal(last.backoff.code, 'challenge');

  let loads = 0;
  const second = clockPacer({ load: async () => { loads += 1; return last; } });
  second.clock.now = first.clock.now + 60_000;
  await second.pacer.ready();
  await second.pacer.ready();
  assert.equal(loads, 1, 'loaded once');
  assert.deepEqual(second.pacer.blocked(), { code: 'challenge', status: 403, message: 'check', retry_after: 1740 });

  const broken = clockPacer({ load: async () => { throw new Error('storage gone'); } });
  await broken.pacer.ready();
  assert.equal(broken.pacer.blocked(), null);
  const junk = clockPacer({ load: async () => ({ lastAt: 'x', backoff: { until: 'never' } }) });
  await junk.pacer.ready();
  assert.equal(junk.pacer.lastAt, 0);
  assert.equal(junk.pacer.blocked(), null);
});
