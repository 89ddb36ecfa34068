// Keeps the machine's snapshot: starts from the copy cached in globalState (so the badge has text at once),
// probes in the background, and caches every new result for the next window.
import * as vscode from 'vscode';
import type { FactsCollector } from '../../core/hardware/collect';
import type { InterpreterService } from '../interpreter';
import { isSnapshot, SNAPSHOT_CACHE_KEY } from './snapshot-cache';
import type { HardwareSnapshot, HardwareState } from './state';

export class HardwareStore implements HardwareState, vscode.Disposable {
  private snapshot: HardwareSnapshot | undefined;
  private running: Promise<HardwareSnapshot> | undefined;
  private rerunRequested = false;
  private collector: FactsCollector | undefined;
  private readonly changed = new vscode.EventEmitter<HardwareSnapshot>();
  private readonly probingChanged = new vscode.EventEmitter<boolean>();
  /** performance.now() of the last completed probe, for the focus throttle. */
  lastProbeAt = Number.NEGATIVE_INFINITY;

  readonly onDidChange = this.changed.event;
  readonly onDidChangeProbing = this.probingChanged.event;

  constructor(
    private readonly memento: vscode.Memento,
    private readonly trainerDir: string,
    private readonly interpreters: InterpreterService,
    private readonly log: vscode.LogOutputChannel,
  ) {
    const cached = memento.get<unknown>(SNAPSHOT_CACHE_KEY);
    this.snapshot = isSnapshot(cached) ? cached : undefined;
  }

  get current(): HardwareSnapshot | undefined {
    return this.snapshot;
  }

  get probing(): boolean {
    return this.running !== undefined;
  }

  /** Probes now; a request during a probe queues exactly one more run, so the last request always wins. */
  refresh(reason: string): Promise<HardwareSnapshot> {
    if (this.running) {
      this.rerunRequested = true;
      this.log.debug(`hardware refresh (${reason}) queued behind the running probe`);
      return this.running; // settles after the queued run, with its result
    }
    this.running = this.probeUntilSettled(reason).finally(() => {
      this.running = undefined;
      this.probingChanged.fire(false);
    });
    this.probingChanged.fire(true);
    return this.running;
  }

  private async probeUntilSettled(reason: string): Promise<HardwareSnapshot> {
    let snapshot = await this.probe(reason);
    while (this.rerunRequested) {
      this.rerunRequested = false;
      snapshot = await this.probe('queued request');
    }
    return snapshot;
  }

  private async probe(reason: string): Promise<HardwareSnapshot> {
    const started = performance.now();
    // Loaded on first use, not at activation: systeminformation and the policy are not needed to show the cache.
    const [{ createFactsCollector }, { evaluatePolicy }] = await Promise.all([
      import('../../core/hardware/collect'),
      import('../../core/hardware/policy'),
    ]);
    this.collector ??= createFactsCollector({ trainerDir: this.trainerDir });
    const interpreter = await this.interpreters.resolve();
    const { facts, sources } = await this.collector.collect(interpreter?.path, { force: true });
    const snapshot: HardwareSnapshot = { facts, report: evaluatePolicy(facts), interpreter, collectedAt: new Date().toISOString() };
    const sourceTimes = Object.entries(sources)
      .map(([name, source]) => `${name} ${Math.round(source.ms)} ms${source.ok ? '' : ` (failed: ${source.error ?? 'unknown'})`}`)
      .join(', ');
    this.log.info(`hardware probed (${reason}) in ${Math.round(performance.now() - started)} ms: ${sourceTimes}`);
    this.snapshot = snapshot;
    this.lastProbeAt = performance.now();
    await this.memento.update(SNAPSHOT_CACHE_KEY, snapshot);
    this.changed.fire(snapshot);
    return snapshot;
  }

  dispose(): void {
    this.changed.dispose();
    this.probingChanged.dispose();
  }
}
