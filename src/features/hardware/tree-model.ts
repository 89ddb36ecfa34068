// What the "Hardware" tree shows, as plain data (unit-tested without VS Code); tree.ts turns it into TreeItems.
import type { Fit } from '../../core/hardware/types';
import { mibToDecimalGb, ramGb } from './badge-text';
import type { HardwareSnapshot } from './state';

export type NodeTone = 'ok' | 'warning' | 'error';

export interface HardwareTreeNode {
  /** Stable across refreshes so VS Code keeps expansion state. */
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  /** A codicon id. */
  icon: string;
  tone?: NodeTone;
  children?: HardwareTreeNode[];
}

const FIT_LOOK: Record<Fit, { icon: string; tone: NodeTone }> = {
  optimal: { icon: 'pass-filled', tone: 'ok' },
  minimum: { icon: 'pass', tone: 'warning' },
  insufficient: { icon: 'error', tone: 'error' },
};

export function hardwareTreeNodes(snapshot: HardwareSnapshot | undefined, probing: boolean): HardwareTreeNode[] {
  if (!snapshot) {
    return [
      { id: 'status', label: probing ? 'Probing hardware…' : 'Hardware not probed yet', icon: probing ? 'loading~spin' : 'question' },
    ];
  }
  const { facts, report, interpreter } = snapshot;
  const explanations = report.explanations;
  const nodes: HardwareTreeNode[] = [
    {
      id: 'platform',
      label: `Platform: ${report.platform}`,
      description: explanations?.platform,
      tooltip: explanations?.platform,
      icon: 'chip',
    },
    {
      id: 'attention',
      label: `Attention: ${report.attention}`,
      description: explanations?.attention,
      tooltip: explanations?.attention,
      icon: 'zap',
    },
  ];
  if (report.precision) {
    nodes.push({
      id: 'precision',
      label: `Precision: ${report.precision}`,
      description: explanations?.precision,
      tooltip: explanations?.precision,
      icon: 'symbol-numeric',
    });
  }
  nodes.push(
    interpreter
      ? {
          id: 'python',
          label: `Python: ${facts.python ? facts.python.version : 'probe failed'}`,
          description: interpreter.path,
          tooltip:
            `${interpreter.path}\n${interpreter.reason}` +
            (facts.python?.torch ? `\ntorch ${facts.python.torch}` : '\ntorch not installed'),
          icon: 'symbol-misc',
          tone: facts.python?.torch ? undefined : 'warning',
        }
      : { id: 'python', label: 'Python: none found', description: 'set vinOcr.pythonPath', icon: 'symbol-misc', tone: 'warning' },
  );
  const machine: HardwareTreeNode[] = [
    { id: 'machine/cpu', label: facts.cpu.brand || 'CPU', description: `${facts.cpu.cores} cores`, icon: 'server' },
    { id: 'machine/ram', label: `RAM ${ramGb(facts.ram_bytes)} GB`, icon: 'database' },
    ...facts.gpus.map((gpu, index) => ({
      id: `machine/gpu/${index}`,
      label: gpu.name,
      description: [
        gpu.vram_mib ? `${mibToDecimalGb(gpu.vram_mib)} GB` : undefined,
        gpu.compute_capability ? `compute ${gpu.compute_capability}` : undefined,
      ]
        .filter(Boolean)
        .join(' · '),
      icon: 'circuit-board',
    })),
  ];
  if (facts.nvidia_driver) {
    machine.push({
      id: 'machine/driver',
      label: `NVIDIA driver ${facts.nvidia_driver}`,
      description: facts.cuda_driver_version ? `CUDA ${facts.cuda_driver_version}` : undefined,
      icon: 'gear',
    });
  }
  nodes.push({ id: 'machine', label: 'Machine', description: `${facts.os} ${facts.arch}`, icon: 'vm', children: machine });
  nodes.push({
    id: 'models',
    label: 'Models',
    icon: 'library',
    children: Object.entries(report.models).map(([model, verdict]) => ({
      id: `models/${model}`,
      label: model,
      description: `${verdict.fit} · ${verdict.platform} · ${verdict.attention}`,
      tooltip: verdict.reasons.join('\n'),
      ...FIT_LOOK[verdict.fit],
    })),
  });
  if (report.warnings.length > 0) {
    nodes.push({
      id: 'warnings',
      label: `Warnings (${report.warnings.length})`,
      icon: 'warning',
      tone: 'warning',
      children: report.warnings.map((warning) => ({
        id: `warnings/${warning.code}`,
        label: warning.message,
        tooltip: `${warning.message}\nFix: ${warning.fix}`,
        icon: 'warning',
        tone: 'warning' as const,
      })),
    });
  }
  return nodes;
}
