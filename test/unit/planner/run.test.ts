import { describe, expect, it } from 'vitest';
import { Plan, runPlan } from '../../../src/planner/index.js';
import type { PlanAction } from '../../../src/planner/types.js';

function action(id: string, after: string[] = []): PlanAction {
  return { id, kind: 'create', service: id, container: id, reason: 'test', after };
}

/** a ← b ← d, a ← c, e independent */
function graphPlan(): Plan {
  return new Plan('demo', [action('a'), action('e'), action('b', ['a']), action('c', ['a']), action('d', ['b'])], []);
}

const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('runPlan', () => {
  it('runs independent actions in parallel and dependents after what they wait on', async () => {
    const log: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const r = await runPlan(graphPlan(), async (a) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      log.push(`start ${a.id}`);
      await tick();
      log.push(`end ${a.id}`);
      inFlight--;
    });
    expect(r).toEqual({ done: expect.arrayContaining(['a', 'b', 'c', 'd', 'e']), failed: [], skipped: [], ok: true });
    expect(log.slice(0, 2)).toEqual(['start a', 'start e']);
    expect(log.indexOf('start b')).toBeGreaterThan(log.indexOf('end a'));
    expect(log.indexOf('start d')).toBeGreaterThan(log.indexOf('end b'));
    expect(maxInFlight).toBeGreaterThanOrEqual(2);
  });

  it('with concurrency 1 runs in plan order', async () => {
    const order: string[] = [];
    await runPlan(graphPlan(), async (a) => void order.push(a.id), { concurrency: 1 });
    expect(order).toEqual(['a', 'e', 'b', 'c', 'd']);
  });

  it('skips what depends on a failure and starts nothing new by default', async () => {
    const skipped: string[] = [];
    const boom = new Error('boom');
    const r = await runPlan(
      graphPlan(),
      async (a) => {
        await tick(a.id === 'e' ? 20 : 1);
        if (a.id === 'a') throw boom;
      },
      { onSkip: (a, why) => skipped.push(`${a.id}: ${why}`) },
    );
    expect(r.failed).toEqual([{ id: 'a', error: boom }]);
    expect(r.done).toEqual(['e']);
    expect(r.skipped).toEqual(['b', 'c', 'd']);
    expect(r.ok).toBe(false);
    expect(skipped).toEqual(['b: a failed', 'd: b did not run', 'c: a failed']);
  });

  it('with continueOnError still runs what does not depend on the failure', async () => {
    const r = await runPlan(
      graphPlan(),
      async (a) => {
        if (a.id === 'b') throw new Error('b failed');
      },
      { continueOnError: true, concurrency: 1 },
    );
    expect(r.done).toEqual(['a', 'e', 'c']);
    expect(r.skipped).toEqual(['d']);
  });

  it('stops starting actions when aborted and waits for those in flight', async () => {
    const ac = new AbortController();
    const r = await runPlan(
      graphPlan(),
      async (a) => {
        if (a.id === 'a') ac.abort();
        await tick();
      },
      { signal: ac.signal },
    );
    expect(r.done).toEqual(['a', 'e']);
    expect(r.skipped).toEqual(['b', 'c', 'd']);
  });

  it('finishes at once for an empty plan', async () => {
    expect(await runPlan(new Plan('demo', [], []), async () => undefined)).toEqual({ done: [], failed: [], skipped: [], ok: true });
  });
});
