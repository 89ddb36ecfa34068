// The one place the extension keeps what it knows about the machine; other features subscribe to it.
import type * as vscode from 'vscode';
import type { DoctorReport, HardwareFacts } from '../../core/hardware/types';

export interface HardwareSnapshot {
  facts: HardwareFacts;
  report: DoctorReport;
}

export interface HardwareState {
  /** The last known machine, or undefined while the first probe runs. */
  readonly current: HardwareSnapshot | undefined;
  /** Fires after each completed probe. */
  readonly onDidChange: vscode.Event<HardwareSnapshot>;
  /** Probes again (cached sources are bypassed) and resolves when done. */
  refresh(reason: string): Promise<HardwareSnapshot>;
}
