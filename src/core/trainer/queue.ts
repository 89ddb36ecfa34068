// Runs at most N training jobs at once; the rest wait in order. N comes from a setting and may
// change while jobs run (a lower limit lets running jobs finish, it never stops them).

export type QueuedJobState = 'queued' | 'running' | 'finished' | 'cancelled';

export interface QueuedJob {
  readonly id: number;
  readonly label: string;
  readonly state: QueuedJobState;
  /** Removes a waiting job, or aborts a running one through its AbortSignal. */
  cancel(): void;
  /** Settles when the job has finished, failed or been cancelled; never rejects. */
  readonly done: Promise<QueuedJobState>;
}

export type JobWork = (signal: AbortSignal) => Promise<void>;

interface Entry {
  job: QueuedJob & { state: QueuedJobState };
  work: JobWork;
  controller: AbortController;
  settle(state: QueuedJobState): void;
}

export class RunQueue {
  private readonly waiting: Entry[] = [];
  private readonly running = new Set<Entry>();
  private nextId = 1;
  private limit: number;

  constructor(
    maxConcurrent: number,
    private readonly onChange: () => void = () => {},
  ) {
    this.limit = RunQueue.sanitise(maxConcurrent);
  }

  /** A bad setting (0, negative, NaN) means one run at a time rather than none. */
  private static sanitise(limit: number): number {
    return Number.isFinite(limit) && limit >= 1 ? Math.floor(limit) : 1;
  }

  get maxConcurrent(): number {
    return this.limit;
  }

  set maxConcurrent(limit: number) {
    this.limit = RunQueue.sanitise(limit);
    this.pump();
  }

  get runningCount(): number {
    return this.running.size;
  }

  get waitingCount(): number {
    return this.waiting.length;
  }

  /** Jobs waiting, in the order they will start. */
  get queued(): readonly QueuedJob[] {
    return this.waiting.map((entry) => entry.job);
  }

  enqueue(label: string, work: JobWork): QueuedJob {
    const controller = new AbortController();
    let settle!: (state: QueuedJobState) => void;
    const done = new Promise<QueuedJobState>((resolve) => (settle = resolve));
    const entry: Entry = {
      work,
      controller,
      settle: (state) => {
        entry.job.state = state;
        settle(state);
      },
      job: {
        id: this.nextId++,
        label,
        state: 'queued',
        done,
        cancel: () => this.cancel(entry),
      },
    };
    this.waiting.push(entry);
    this.pump();
    this.onChange();
    return entry.job;
  }

  /** Cancels every job, waiting or running (window closing). */
  cancelAll(): void {
    for (const entry of [...this.waiting, ...this.running]) this.cancel(entry);
  }

  private cancel(entry: Entry): void {
    const index = this.waiting.indexOf(entry);
    if (index !== -1) {
      this.waiting.splice(index, 1);
      entry.settle('cancelled');
      this.onChange();
      return;
    }
    if (this.running.has(entry)) entry.controller.abort();
  }

  private pump(): void {
    while (this.running.size < this.limit && this.waiting.length > 0) {
      const entry = this.waiting.shift()!;
      this.running.add(entry);
      entry.job.state = 'running';
      void this.run(entry);
    }
  }

  private async run(entry: Entry): Promise<void> {
    this.onChange();
    try {
      await entry.work(entry.controller.signal);
    } catch {
      // The job reports its own failure; the queue only has to keep going.
    }
    this.running.delete(entry);
    entry.settle(entry.controller.signal.aborted ? 'cancelled' : 'finished');
    this.pump();
    this.onChange();
  }
}
