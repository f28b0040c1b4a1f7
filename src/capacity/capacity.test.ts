import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { Admission, Degradation, type DegradationStep } from './index.ts';

const settings = { maxConcurrent: 2, queueLimit: 4, maxWaitMs: 10_000, citizenReserved: 1 };

function refusedFast(promise: Promise<unknown>): Promise<number> {
  const started = performance.now();
  return promise.then(
    () => assert.fail('expected a refusal'),
    (error: { code: string }) => {
      assert.equal(error.code, 'ENTITLE_OVERLOADED');
      return performance.now() - started;
    },
  );
}

describe('admission control', () => {
  it('answers at once when the queue is full, and starts every request it queued', async () => {
    const admission = new Admission(settings, new Registry());
    const running = [await admission.acquire('citizen'), await admission.acquire('citizen')];
    const queued = [1, 2, 3, 4].map(() => admission.acquire('citizen'));
    assert.equal(admission.queued, 4);
    const ms = await refusedFast(admission.acquire('citizen'));
    assert.ok(ms < 50, `the refusal took ${ms} ms`);
    // Nothing admitted is lost: each queued request starts as a place frees up.
    for (const release of running) release();
    const started = await Promise.all(queued.slice(0, 2));
    for (const release of started) release();
    for (const release of await Promise.all(queued.slice(2))) release();
    assert.equal(admission.inFlight, 0);
    assert.equal(admission.queued, 0);
  });

  it('starts citizens before batch and batch before operator work, and keeps places for citizens', async () => {
    const admission = new Admission({ ...settings, queueLimit: 10 }, new Registry());
    const first = await admission.acquire('operator');
    // One place is reserved for citizens: a second operator request waits though a place is free.
    const order: string[] = [];
    const waiting = [
      admission.acquire('operator').then((r) => (order.push('operator'), r)),
      admission.acquire('batch').then((r) => (order.push('batch'), r)),
    ];
    const citizen = await admission.acquire('citizen');
    assert.equal(admission.inFlight, 2);
    const laterCitizen = admission.acquire('citizen').then((r) => (order.push('citizen'), r));
    first();
    citizen();
    const releases = await Promise.all([laterCitizen, ...waiting].map(async (p) => (await p)()));
    assert.equal(releases.length, 3);
    assert.deepEqual(order.slice(0, 2), ['citizen', 'batch']);
  });

  it('lets a citizen take the place of queued batch work when the queue is full', async () => {
    const admission = new Admission({ ...settings, queueLimit: 2 }, new Registry());
    const running = [await admission.acquire('citizen'), await admission.acquire('citizen')];
    const citizenWaiting = admission.acquire('citizen');
    const batch = admission.acquire('batch');
    const displaced = refusedFast(batch);
    const citizen = admission.acquire('citizen');
    await displaced;
    await refusedFast(admission.acquire('batch'));
    for (const release of running) release();
    (await citizenWaiting)();
    (await citizen)();
  });

  it('refuses a request that waited longer than the limit, before the client times out', async () => {
    const admission = new Admission({ ...settings, maxWaitMs: 50 }, new Registry());
    const running = [await admission.acquire('citizen'), await admission.acquire('citizen')];
    const ms = await refusedFast(admission.acquire('citizen'));
    assert.ok(ms >= 45 && ms < 500, `refused after ${ms} ms`);
    for (const release of running) release();
  });
});

function blockFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('graceful degradation', () => {
  it('drops shadow evaluation, then traces, then reports under event-loop pressure, and restores them when it passes', async () => {
    const logs: { event: unknown; level: unknown }[] = [];
    const log = {
      info: (f: Record<string, unknown>) => logs.push({ event: f.event, level: f.level }),
      warn: (f: Record<string, unknown>) => logs.push({ event: f.event, level: f.level }),
    };
    const registry = new Registry();
    const degradation = new Degradation(
      {
        thresholds: { eventLoopDelayMs: 40, poolWaiting: 100, queueDepth: 100 },
        tickMs: 150,
        sustainTicks: 2,
        calmMs: 300,
      },
      { poolWaiting: () => 0, queueDepth: () => 0, automatic: () => true, flagOn: () => true },
      registry,
      log,
    );
    degradation.start();
    try {
      const available = (step: DegradationStep) => degradation.allows(step);
      // Induced pressure: the event loop is blocked for 80 ms at a time, as heavy work would.
      const pressure = setInterval(() => blockFor(80), 20);
      const deadline = Date.now() + 5_000;
      while (degradation.level < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      clearInterval(pressure);
      assert.equal(degradation.level, 3);
      assert.deepEqual(
        [available('shadow-evaluation'), available('explanation-traces'), available('replay-and-reports')],
        [false, false, false],
      );
      assert.deepEqual(logs.slice(0, 3), [
        { event: 'degradation_engaged', level: 1 },
        { event: 'degradation_engaged', level: 2 },
        { event: 'degradation_engaged', level: 3 },
      ]);
      const metrics = await registry.metrics();
      assert.match(metrics, /entitle_degradation_level 3/);
      assert.match(metrics, /entitle_feature_available\{step="shadow-evaluation"\} 0/);
      // Hysteresis: one step back per calm period, not all at once, and never straight back up.
      const restoredAt: number[] = [];
      const calmFrom = Date.now();
      while (degradation.level > 0 && Date.now() < calmFrom + 5_000) {
        const before = degradation.level;
        await new Promise((r) => setTimeout(r, 20));
        if (degradation.level < before) restoredAt.push(Date.now() - calmFrom);
        assert.ok(degradation.level <= before, 'the level rose again with no pressure');
      }
      assert.equal(degradation.level, 0);
      assert.equal(restoredAt.length, 3, 'restored one step at a time');
      assert.ok(restoredAt[0]! >= 250, `the first step came back after ${restoredAt[0]} ms, before the calm period`);
      assert.deepEqual(
        logs.slice(3).map((l) => l.event),
        ['degradation_restored', 'degradation_restored', 'degradation_restored'],
      );
      assert.equal(available('shadow-evaluation') && available('replay-and-reports'), true);
    } finally {
      degradation.stop();
    }
  });

  it('holds a step that pressure has not cleared: a signal between half and the threshold keeps the level', () => {
    let waiting = 20;
    const degradation = new Degradation(
      {
        thresholds: { eventLoopDelayMs: 10_000, poolWaiting: 16, queueDepth: 100 },
        tickMs: 1_000,
        sustainTicks: 1,
        calmMs: 0,
      },
      { poolWaiting: () => waiting, queueDepth: () => 0, automatic: () => true, flagOn: () => true },
      new Registry(),
      { info: () => undefined, warn: () => undefined },
    );
    degradation.tick(0);
    assert.equal(degradation.level, 1);
    waiting = 10; // below the threshold, above half of it: no flapping back
    degradation.tick(1_000);
    degradation.tick(2_000);
    assert.equal(degradation.level, 1);
    waiting = 2;
    degradation.tick(3_000);
    assert.equal(degradation.level, 0);
  });

  it('waits for pressure that lasts: one stalled tick drops nothing', () => {
    let waiting = 20;
    const degradation = new Degradation(
      {
        thresholds: { eventLoopDelayMs: 10_000, poolWaiting: 16, queueDepth: 100 },
        tickMs: 1_000,
        sustainTicks: 2,
        calmMs: 0,
      },
      { poolWaiting: () => waiting, queueDepth: () => 0, automatic: () => true, flagOn: () => true },
      new Registry(),
      { info: () => undefined, warn: () => undefined },
    );
    degradation.tick(0);
    waiting = 0;
    degradation.tick(1_000);
    waiting = 20;
    degradation.tick(2_000);
    assert.equal(degradation.level, 0, 'two stalls apart are not sustained pressure');
    degradation.tick(3_000);
    assert.equal(degradation.level, 1);
    degradation.tick(4_000);
    assert.equal(degradation.level, 1, 'the next step waits for the same again');
    degradation.tick(5_000);
    assert.equal(degradation.level, 2);
  });

  it('does nothing by itself when automatic degradation is switched off, and a kill switch still drops its step', () => {
    let automatic = true;
    const degradation = new Degradation(
      {
        thresholds: { eventLoopDelayMs: 10_000, poolWaiting: 1, queueDepth: 100 },
        tickMs: 1_000,
        sustainTicks: 1,
        calmMs: 0,
      },
      {
        poolWaiting: () => 5,
        queueDepth: () => 0,
        automatic: () => automatic,
        flagOn: (step) => step !== 'replay-and-reports',
      },
      new Registry(),
      { info: () => undefined, warn: () => undefined },
    );
    degradation.tick(0);
    assert.equal(degradation.level, 1);
    automatic = false;
    degradation.tick(1);
    assert.equal(degradation.level, 0);
    assert.equal(degradation.allows('shadow-evaluation'), true);
    assert.equal(degradation.allows('replay-and-reports'), false);
  });
});
