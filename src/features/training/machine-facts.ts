// The facts an environment set-up chooses its build by (torch's, PaddlePaddle's): the hardware snapshot, a fresh
// one when there is none yet, else what Node alone knows (no GPU).
import type { HardwareFacts } from '../../core/hardware/types';
import type { HardwareState } from '../hardware/state';

export type SetupFacts = Pick<HardwareFacts, 'os' | 'arch' | 'gpus' | 'nvidia_driver' | 'cuda_driver_version'>;

export async function machineFacts(hardware: HardwareState): Promise<SetupFacts> {
  const snapshot = hardware.current ?? (await hardware.refresh('environment set-up').catch(() => undefined));
  return (
    snapshot?.facts ?? {
      os: process.platform as 'linux',
      arch: process.arch,
      gpus: [],
      nvidia_driver: null,
      cuda_driver_version: null,
    }
  );
}
