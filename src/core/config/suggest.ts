// "Did you mean …": the closest candidate by edit distance, if it is close enough to be a typo.
import { distance } from 'fastest-levenshtein';

/** Words people mean that no edit distance finds: "gpu" is cuda here, not the nearer "cpu". */
const SYNONYMS: Readonly<Record<string, string>> = {
  gpu: 'cuda',
  nvidia: 'cuda',
  metal: 'mps',
  apple: 'mps',
  flash: 'flash_attention_2',
  flash_attn: 'flash_attention_2',
  flash_attention: 'flash_attention_2',
  fa2: 'flash_attention_2',
  bfloat16: 'bf16',
  float16: 'fp16',
  float32: 'fp32',
  half: 'fp16',
};

export function nearest(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  const synonym = SYNONYMS[lower];
  if (synonym && candidates.includes(synonym)) return synonym;
  let best: string | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    // Case-insensitive distance, so `SDPA` → `sdpa`; containment (`flash` → `flash_attention_2`) counts as close.
    const candidateLower = candidate.toLowerCase();
    const score = candidateLower.includes(lower) && lower.length >= 3 ? 0.5 : distance(lower, candidateLower);
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  if (best === undefined) return undefined;
  const tolerance = Math.max(2, Math.ceil(Math.max(word.length, best.length) / 3));
  return bestScore <= tolerance ? best : undefined;
}
