// The root supervisor: one_for_one. Each child is data (a ChildSpec); a
// child that crashes is restarted alone, after a backoff, within its restart
// intensity. Past it, the child is stopped and reported; the others go on.
import { systemClock, type Clock } from '../src/clock.js';
import { toWireError, type WireError } from '../src/errors.js';
import { RestartWindow } from './restart-window.js';

export type ChildExit = { outcome: string; error?: WireError };

export interface ChildSpec {
  id: string;
  /** Starts one incarnation; resolves on a normal exit, rejects on a crash. */
  start(): Promise<ChildExit>;
  /** Asks the running incarnation to stop (by message, never by abort). */
  stop(): void;
  /** `transient`: restart only after a crash. `permanent`: after any exit. */
  restart: 'transient' | 'permanent';
}

export type ChildState = 'running' | 'restarting' | 'exited' | 'failed' | 'stopped';

export interface ChildStatus {
  state: ChildState;
  restarts: number;
  lastExit: ChildExit | null;
  lastCrash: WireError | null;
}

export interface SupervisorOptions {
  /** Restarts allowed per child within `periodMs` (default 5). */
  intensity?: number;
  /** Default 30 000 ms. */
  periodMs?: number;
  /** First restart delay; doubles per recent restart up to `backoffMaxMs` (default 100 ms). */
  backoffBaseMs?: number;
  /** Default 5000 ms. */
  backoffMaxMs?: number;
  clock?: Clock;
  onEvent?: (event: SupervisorEvent) => void;
}

export type SupervisorEvent =
  | { type: 'child.crashed'; id: string; error: WireError; restarting: boolean }
  | { type: 'child.restarted'; id: string; restarts: number }
  | { type: 'child.exited'; id: string; exit: ChildExit }
  | { type: 'child.gave-up'; id: string; error: WireError };

interface Child {
  spec: ChildSpec;
  status: ChildStatus;
  window: RestartWindow;
  running: Promise<void>;
}

export class Supervisor {
  private readonly children = new Map<string, Child>();
  private stopping = false;
  private readonly clock: Clock;
  private readonly o: Required<Omit<SupervisorOptions, 'clock' | 'onEvent'>>;
  private readonly stopped: Promise<void>;
  private signalStop!: () => void;

  constructor(private readonly options: SupervisorOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.o = {
      intensity: options.intensity ?? 5,
      periodMs: options.periodMs ?? 30_000,
      backoffBaseMs: options.backoffBaseMs ?? 100,
      backoffMaxMs: options.backoffMaxMs ?? 5000,
    };
    this.stopped = new Promise((resolve) => (this.signalStop = resolve));
  }

  startChild(spec: ChildSpec): void {
    const child: Child = {
      spec,
      status: { state: 'running', restarts: 0, lastExit: null, lastCrash: null },
      window: new RestartWindow(this.o.intensity, this.o.periodMs),
      running: Promise.resolve(),
    };
    this.children.set(spec.id, child);
    child.running = this.loop(child);
  }

  status(id: string): ChildStatus | undefined {
    return this.children.get(id)?.status;
  }

  statuses(): Map<string, ChildStatus> {
    return new Map([...this.children].map(([id, c]) => [id, c.status]));
  }

  /** Resolves when every child has exited, given up or stopped. */
  async whenAllDone(): Promise<void> {
    await Promise.all([...this.children.values()].map((c) => c.running));
  }

  /** Stops every child by message and waits for them. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    this.signalStop();
    for (const c of this.children.values()) if (c.status.state === 'running') c.spec.stop();
    await this.whenAllDone();
  }

  private async loop(child: Child): Promise<void> {
    for (;;) {
      child.status.state = 'running';
      try {
        const exit = await child.spec.start();
        child.status.lastExit = exit;
        if (this.stopping || child.spec.restart === 'transient') {
          child.status.state = this.stopping ? 'stopped' : 'exited';
          this.emit({ type: 'child.exited', id: child.spec.id, exit });
          return;
        }
      } catch (err) {
        const error = toWireError(err);
        child.status.lastCrash = error;
        if (this.stopping) {
          child.status.state = 'stopped';
          return;
        }
        if (!child.window.allow(this.clock.now())) {
          child.status.state = 'failed';
          this.emit({ type: 'child.crashed', id: child.spec.id, error, restarting: false });
          this.emit({ type: 'child.gave-up', id: child.spec.id, error });
          return;
        }
        this.emit({ type: 'child.crashed', id: child.spec.id, error, restarting: true });
      }
      child.status.state = 'restarting';
      const delay = Math.min(this.o.backoffMaxMs, this.o.backoffBaseMs * 2 ** Math.max(0, child.window.recent - 1));
      await this.clock.sleep(delay, this.stopped);
      if (this.stopping) {
        child.status.state = 'stopped';
        return;
      }
      child.status.restarts++;
      this.emit({ type: 'child.restarted', id: child.spec.id, restarts: child.status.restarts });
    }
  }

  private emit(e: SupervisorEvent): void {
    this.options.onEvent?.(e);
  }
}
