// The VIN reader shipped with the extension (trainer/vin_ocr/pretrained/): what the editor knows of it
// without torch, from the facts file its publish step writes beside the weights.
import facts from '../../../trainer/vin_ocr/pretrained/vin-reader.json';

/** What the trainer accepts in place of a checkpoint path to read with the shipped reader. */
export const PRETRAINED_ALIAS = 'pretrained';

export interface ShippedReaderFacts {
  model: { type: string; height: number; width: number; hidden_size: number };
  step: number;
  samples_seen: number;
  val?: { exact_match?: number; cer?: number };
}

export const shippedReader: ShippedReaderFacts = facts as ShippedReaderFacts;

/** "baseline CRNN · 1.3 M synthetic images · 93.1 % exact on the held-out set". */
export function describeShippedReader(reader: ShippedReaderFacts = shippedReader): string {
  const images = reader.samples_seen >= 1e6 ? `${(reader.samples_seen / 1e6).toFixed(1)} M` : `${Math.round(reader.samples_seen / 1e3)} k`;
  const exact = reader.val?.exact_match;
  const accuracy = exact === undefined ? '' : ` · ${(exact * 100).toFixed(1)} % exact on the held-out set`;
  return `baseline CRNN · trained on ${images} synthetic images${accuracy}`;
}
