// The one place the extension keeps what it knows about the machine; other features subscribe to it.
import type * as vscode from 'vscode';
import type { DoctorReport, HardwareFacts } from '../../core/hardware/types';
import type { ResolvedInterpreter } from '../../core/interpreter/resolve';

/** Which interpreter runs the trainer and the probe, and why it was chosen. */
export type InterpreterChoice = ResolvedInterpreter;

export interface HardwareSnapshot {
  facts: HardwareFacts;
  report: DoctorReport;
  /** The interpreter the probe ran with; undefined when none was found. */
  interpreter?: InterpreterChoice;
  /** ISO time of the probe that produced this snapshot. */
  collectedAt?: string;
}

export interface HardwareState {
  /** The last known machine, or undefined while the first probe runs. */
  readonly current: HardwareSnapshot | undefined;
  /** Fires after each completed probe. */
  readonly onDidChange: vscode.Event<HardwareSnapshot>;
  /** Probes again (cached sources are bypassed) and resolves when done. */
  refresh(reason: string): Promise<HardwareSnapshot>;
  /** True while a probe runs (the badge shows a spinner). */
  readonly probing: boolean;
  /** Fires when a probe starts or ends. */
  readonly onDidChangeProbing: vscode.Event<boolean>;
}
