// The trainer's command line in one place: `python -m vin_ocr train|evaluate|predict …`.
// Events always go to stdout (`--events -`); the human log stays on stderr.

export interface TrainOverrides {
  batchSize?: number;
  device?: 'auto' | 'cuda' | 'mps' | 'cpu';
  /** Attention override for the model families that have one (sdpa/eager after a flash-attn failure). */
  attention?: 'flash_attention_2' | 'sdpa' | 'eager';
}

export function trainArgs(configPath: string, options: { resumeFrom?: string; overrides?: TrainOverrides } = {}): string[] {
  const args = ['train', configPath, '--events', '-'];
  if (options.resumeFrom) args.push('--resume', options.resumeFrom);
  const overrides = options.overrides ?? {};
  if (overrides.batchSize !== undefined) args.push('--batch-size', String(overrides.batchSize));
  if (overrides.device) args.push('--device', overrides.device);
  if (overrides.attention) args.push('--attention', overrides.attention);
  return args;
}

export function evaluateArgs(checkpoint: string, options: { data?: string } = {}): string[] {
  const args = ['evaluate', checkpoint, '--json'];
  if (options.data) args.push('--data', options.data);
  return args;
}

export function predictArgs(checkpoint: string, images: readonly string[]): string[] {
  return ['predict', checkpoint, ...images, '--json'];
}
