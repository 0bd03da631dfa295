import { describe, expect, it } from 'vitest';
import { Supervisor, type SupervisorEvent } from '../../actors/supervisor.js';
import { FakeClock, flush } from '../support/fake-clock.js';

function scripted(outcomes: Array<'crash' | 'exit' | 'hang'>) {
  let n = 0;
  let release: (() => void) | null = null;
  return {
    starts: () => n,
    spec: (id: string) => ({
      id,
      restart: 'transient' as const,
      stop: () => release?.(),
      start: () => {
        const o = outcomes[Math.min(n++, outcomes.length - 1)];
        if (o === 'crash') return Promise.reject(Object.assign(new Error(`${id} boom`), { code: 'CK_ERR_INTERNAL' }));
        if (o === 'exit') return Promise.resolve({ outcome: 'caught-up' });
        return new Promise<{ outcome: string }>((resolve) => (release = () => resolve({ outcome: 'stopped' })));
      },
    }),
  };
}

describe('Supervisor (one_for_one)', () => {
  it('restarts only the crashed child, with backoff, and counts restarts exactly', async () => {
    const clock = new FakeClock(0);
    const events: SupervisorEvent[] = [];
    const sup = new Supervisor({ clock, intensity: 5, periodMs: 30_000, backoffBaseMs: 100, onEvent: (e) => events.push(e) });
    const a = scripted(['crash', 'crash', 'hang']);
    const b = scripted(['hang']);
    sup.startChild(a.spec('a'));
    sup.startChild(b.spec('b'));
    await flush();
    expect(sup.status('a')!.state).toBe('restarting');
    await clock.advance(99);
    expect(a.starts()).toBe(1); // still backing off
    await clock.advance(1);
    await clock.advance(200);
    expect(a.starts()).toBe(3);
    expect(sup.status('a')).toMatchObject({ state: 'running', restarts: 2 });
    expect(b.starts()).toBe(1);
    expect(sup.status('b')!.restarts).toBe(0);
    await sup.stopAll();
    expect(sup.status('a')!.state).toBe('stopped');
  });

  it('stops a child past its intensity and leaves the others running', async () => {
    const clock = new FakeClock(0);
    const events: SupervisorEvent[] = [];
    const sup = new Supervisor({ clock, intensity: 3, periodMs: 30_000, backoffBaseMs: 10, backoffMaxMs: 10, onEvent: (e) => events.push(e) });
    const bad = scripted(['crash']);
    const good = scripted(['hang']);
    sup.startChild(bad.spec('bad'));
    sup.startChild(good.spec('good'));
    for (let i = 0; i < 10; i++) await clock.advance(10);
    expect(bad.starts()).toBe(4); // first run + 3 restarts
    expect(sup.status('bad')).toMatchObject({ state: 'failed', restarts: 3 });
    expect(events.filter((e) => e.type === 'child.gave-up').map((e) => e.id)).toEqual(['bad']);
    expect(sup.status('good')!.state).toBe('running');
    await sup.stopAll();
  });

  it('forgets crashes older than the period', async () => {
    const clock = new FakeClock(0);
    const sup = new Supervisor({ clock, intensity: 2, periodMs: 1000, backoffBaseMs: 600, backoffMaxMs: 600 });
    const c = scripted(['crash', 'crash', 'crash', 'crash', 'exit']);
    sup.startChild(c.spec('c'));
    for (let i = 0; i < 10; i++) await clock.advance(600);
    expect(c.starts()).toBe(5);
    expect(sup.status('c')).toMatchObject({ state: 'exited', restarts: 4 });
  });
});
