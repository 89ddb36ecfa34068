// Builds what the hardware panel shows, for this machine or for a seed cloud instance taken as a
// hypothetical machine. Pure (no VS Code), so it is unit-tested in Node.
import { evaluatePolicy } from '../../core/hardware/policy';
import { cloudInstances, installCommands, withTrainerPaths, withTrainerPathsInReport } from '../../core/hardware/requirements';
import type { DoctorReport, HardwareFacts } from '../../core/hardware/types';
import { THIS_MACHINE, type PanelModel, type TroubleshootingView } from '../../../media/src/protocol';
import { mibToDecimalGb, ramGb } from './badge-text';
import type { HardwareSnapshot } from './state';

export interface PanelContext {
  /** The bundled trainer folder: commands name its flash-attn stub relative to it. */
  trainerDir: string;
}

export function panelTargets(): PanelModel['targets'] {
  return [
    { id: THIS_MACHINE, label: 'This machine' },
    ...cloudInstances.map((instance) => ({ id: instance.id, label: `${instance.provider} ${instance.label}` })),
  ];
}

/** A POSIX-shell-safe word: quoted only when it needs to be, so commands stay copyable and readable. */
/** The troubleshooting entries of data/requirements.json, marked relevant for the machine shown. */
function troubleshooting(facts: HardwareFacts, report: DoctorReport, context: PanelContext): TroubleshootingView[] {
  return [
    {
      title: '"flash_attn not available"',
      body:
        'DeepSeek-OCR does not need flash_attn to load: its code imports flash_attn only where flash-attn 2 is available, ' +
        'and loads without it. On MPS and the CPU only eager attention runs (its code refuses sdpa; flash_attention_2 fails ' +
        'there with or without the stub). On CUDA with compute capability 8.0 or newer, install the real flash-attn to use ' +
        'flash_attention_2. The bundled stub matters only where other code imports flash_attn unguarded.',
      commands: [
        'pip install flash-attn==2.7.3 --no-build-isolation',
        withTrainerPaths('pip install -e ./stubs/flash_attn_stub', context.trainerDir),
      ],
      // Nothing in a machine's facts says whether some other code imports flash_attn unguarded.
      relevant: false,
    },
    {
      title: 'OpenMP library conflict on macOS',
      body:
        'Two copies of the OpenMP runtime (libomp from torch and from another package) abort the process. ' +
        'If it persists, allow the duplicate before training.',
      commands: ['export KMP_DUPLICATE_LIB_OK=TRUE'],
      relevant: facts.os === 'darwin',
    },
    {
      title: '"MPS out of memory"',
      body:
        'Unified memory is shared with the system. ' +
        'Reduce training.batch_size in the config (down to 1), or train on the CPU with training.device: cpu.',
      commands: ['training:\n  batch_size: 1'],
      relevant: report.platform === 'mps',
    },
  ];
}

/** The panel's content for one machine (real or hypothetical). */
export function buildPanelModel(
  targetId: string,
  facts: HardwareFacts,
  report: DoctorReport,
  snapshot: HardwareSnapshot | undefined,
  context: PanelContext,
): PanelModel {
  const hypothetical = targetId !== THIS_MACHINE;
  const explanations = report.explanations;
  return {
    targetId,
    targets: panelTargets(),
    hypothetical,
    machine: {
      os: facts.os,
      arch: facts.arch,
      cpu: facts.cpu.brand,
      cores: facts.cpu.cores,
      ramGb: ramGb(facts.ram_bytes),
      gpus: facts.gpus.map((gpu) => ({
        vendor: gpu.vendor,
        name: gpu.name,
        vramGb: gpu.vram_mib ? mibToDecimalGb(gpu.vram_mib) : null,
        computeCapability: gpu.compute_capability ?? null,
      })),
      nvidiaDriver: facts.nvidia_driver,
      cudaDriverVersion: facts.cuda_driver_version,
    },
    python: {
      interpreter: hypothetical ? null : (snapshot?.interpreter ?? null),
      probe: facts.python
        ? {
            version: facts.python.version,
            torch: facts.python.torch,
            torchCuda: facts.python.torch_cuda ?? null,
            cudaAvailable: facts.python.cuda_available,
            mpsAvailable: facts.python.mps_available,
            flashAttn: facts.python.flash_attn,
            torchError: facts.python.torch_error ?? null,
          }
        : null,
    },
    platform: { value: report.platform, reason: explanations?.platform ?? '' },
    attention: { value: report.attention, reason: explanations?.attention ?? '' },
    precision: report.precision ? { value: report.precision, reason: explanations?.precision ?? '' } : null,
    models: Object.entries(report.models).map(([id, verdict]) => ({
      id,
      fit: verdict.fit,
      platform: verdict.platform,
      attention: verdict.attention,
      reasons: verdict.reasons,
      installCommands: installCommands(id, verdict.platform).map((command) => withTrainerPaths(command, context.trainerDir)),
      cloudSuggestions: (verdict.cloud ?? []).map((entry) => ({ instanceId: entry.id, text: `${entry.label}: ${entry.fit}` })),
    })),
    warnings: withTrainerPathsInReport(report, context.trainerDir).warnings,
    troubleshooting: troubleshooting(facts, report, context),
    collectedAt: hypothetical ? null : (snapshot?.collectedAt ?? null),
  };
}

/**
 * The model for a target id: this machine from the snapshot, a cloud instance from data/requirements.json.
 * Unknown ids (a stale saved state, a hand-made message) are an error the caller reports.
 */
export function panelModelFor(targetId: string, snapshot: HardwareSnapshot | undefined, context: PanelContext): PanelModel | undefined {
  if (targetId === THIS_MACHINE) {
    return snapshot ? buildPanelModel(THIS_MACHINE, snapshot.facts, snapshot.report, snapshot, context) : undefined;
  }
  const instance = cloudInstances.find((candidate) => candidate.id === targetId);
  if (!instance) throw new Error(`Unknown machine "${targetId}": pick one from the "Check against" list.`);
  return buildPanelModel(instance.id, instance.facts, evaluatePolicy(instance.facts), snapshot, context);
}
