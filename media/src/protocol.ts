// Messages between the hardware panel (webview) and the extension host: the one place both sides agree on.
// Types plus one small guard, so both bundles can import it without pulling other code across.

export const THIS_MACHINE = 'this-machine';

export interface MachineView {
  os: string;
  arch: string;
  cpu: string;
  cores: number;
  ramGb: number;
  gpus: { vendor: string; name: string; vramGb: number | null; computeCapability: string | null }[];
  nvidiaDriver: string | null;
  cudaDriverVersion: string | null;
}

export interface PythonView {
  /** Which interpreter and why (absent for a hypothetical cloud machine). */
  interpreter: { path: string; source: string; reason: string } | null;
  /** What the probe reported; null when it did not run or failed. */
  probe: {
    version: string;
    torch: string | null;
    torchCuda: string | null;
    cudaAvailable: boolean;
    mpsAvailable: boolean;
    flashAttn: string | null;
    torchError: string | null;
  } | null;
}

export interface DecisionView {
  value: string;
  reason: string;
}

export interface ModelView {
  id: string;
  fit: 'optimal' | 'minimum' | 'insufficient';
  platform: string;
  attention: string;
  reasons: string[];
  /** Exact install commands for this model on the chosen platform. */
  installCommands: string[];
  /** Cloud instances (data/requirements.json) on which this model would fit (only when it does not fit here). */
  cloudSuggestions: { instanceId: string; text: string }[];
}

export interface TroubleshootingView {
  title: string;
  body: string;
  commands: string[];
  /** Whether it concerns the machine shown (others stay available, folded away). */
  relevant: boolean;
}

export interface PanelModel {
  targetId: string;
  targets: { id: string; label: string }[];
  /** True for a cloud instance evaluated as a hypothetical machine. */
  hypothetical: boolean;
  machine: MachineView;
  python: PythonView;
  platform: DecisionView;
  attention: DecisionView;
  precision: DecisionView | null;
  models: ModelView[];
  warnings: { code: string; message: string; fix: string }[];
  troubleshooting: TroubleshootingView[];
  collectedAt: string | null;
}

/** Host → webview. */
export type HostMessage =
  { type: 'render'; model: PanelModel } | { type: 'probing'; probing: boolean } | { type: 'error'; message: string };

/** Webview → host. */
export type WebviewMessage =
  | { type: 'ready'; targetId: string | null }
  | { type: 'checkAgainst'; targetId: string }
  | { type: 'refresh' }
  | { type: 'copy'; text: string }
  | { type: 'copyReport' }
  /** "Train on cloud…" beside a suggested instance: the host runs the command with it. */
  | { type: 'trainOnCloud'; instanceId: string }
  /** Sent after each render: what a person now sees, so tests in the host can check the page really drew. */
  | { type: 'rendered'; targetId: string; platform: string; modelCount: number };

/** State the webview keeps across hide/show and reloads (getState/setState). */
export interface WebviewState {
  targetId: string;
  model: PanelModel | null;
}

/** Checks a message from the webview before the host acts on it: the page is not trusted input. */
export function isWebviewMessage(value: unknown): value is WebviewMessage {
  if (typeof value !== 'object' || value === null) return false;
  const message = value as Record<string, unknown>;
  switch (message.type) {
    case 'ready':
      return message.targetId === null || typeof message.targetId === 'string';
    case 'checkAgainst':
      return typeof message.targetId === 'string';
    case 'refresh':
    case 'copyReport':
      return true;
    case 'copy':
      return typeof message.text === 'string' && message.text.length < 10_000;
    case 'trainOnCloud':
      return typeof message.instanceId === 'string' && message.instanceId.length < 200;
    case 'rendered':
      return typeof message.targetId === 'string' && typeof message.platform === 'string' && typeof message.modelCount === 'number';
    default:
      return false;
  }
}
