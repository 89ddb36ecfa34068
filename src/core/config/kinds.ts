// Recognises which kind of config a file is: from a `# yaml-language-server: $schema=…` first line,
// from the user's and the built-in path patterns, and finally from the document's top-level keys.

export type ConfigKind = 'model-profile' | 'trainer-config' | 'training-config';

export const CONFIG_KINDS: readonly ConfigKind[] = ['model-profile', 'trainer-config', 'training-config'];

export const SCHEMA_FILES: Record<ConfigKind, string> = {
  'model-profile': 'model-profile.schema.json',
  'trainer-config': 'trainer-config.schema.json',
  'training-config': 'training-config.schema.json',
};

export const KIND_LABELS: Record<ConfigKind, string> = {
  'model-profile': 'model profile',
  'trainer-config': 'trainer config',
  'training-config': 'training config',
};

/** Glob → kind. Built-in conventions of the existing vin_ocr project; users add more in `vinOcr.configs.patterns`. */
export const BUILT_IN_PATTERNS: Readonly<Record<string, ConfigKind>> = {
  '**/configs/models/*.{yaml,yml}': 'model-profile',
  '**/*_finetune.{yaml,yml}': 'trainer-config',
  '**/*.train.{yaml,yml}': 'training-config',
};

export type KindSource = 'modeline' | 'pattern' | 'content';

/** `foreign` means the modeline names some other schema: the file is someone else's and we stay quiet. */
export type KindDecision = { kind: ConfigKind; source: KindSource } | { kind: undefined; foreign: boolean };

export interface KindOptions {
  /** Extra glob → kind patterns (checked before the built-in ones). */
  patterns?: Readonly<Record<string, string>>;
}

const MODELINE = /^\uFEFF?#\s*yaml-language-server\s*:\s*\$schema\s*=\s*(\S+)/;

export function kindFromModeline(text: string): KindDecision | undefined {
  const firstLine = text.slice(0, 2048).split(/\r?\n/, 1)[0] ?? '';
  const match = MODELINE.exec(firstLine);
  if (!match) return undefined;
  const url = match[1]!;
  for (const kind of CONFIG_KINDS) {
    if (url.endsWith(SCHEMA_FILES[kind])) return { kind, source: 'modeline' };
  }
  return { kind: undefined, foreign: true };
}

export function kindFromPath(file: string, options: KindOptions = {}): ConfigKind | undefined {
  const normalised = file.replace(/\\/g, '/');
  const patterns = { ...(options.patterns ?? {}), ...BUILT_IN_PATTERNS };
  for (const [glob, kind] of Object.entries(patterns)) {
    if (isConfigKind(kind) && globMatches(glob, normalised)) return kind;
  }
  return undefined;
}

/** Top-level keys decide: `model_id` → profile, `trainer` → trainer config, `model` section → training config. */
export function kindFromData(data: unknown): ConfigKind | undefined {
  if (!isPlainObject(data)) return undefined;
  if ('model_id' in data) return 'model-profile';
  if ('trainer' in data) return 'trainer-config';
  if (isPlainObject(data.model) && ('type' in data.model || 'training' in data || 'data' in data)) return 'training-config';
  return undefined;
}

export function isConfigKind(value: unknown): value is ConfigKind {
  return typeof value === 'string' && (CONFIG_KINDS as readonly string[]).includes(value);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const globCache = new Map<string, RegExp>();

/**
 * Minimal glob: `**` any folders, `*` and `?` within one segment, `{a,b}` alternatives. A pattern without a
 * slash matches the file name anywhere, as `.gitignore` and VS Code's `files.associations` do.
 */
export function globMatches(glob: string, file: string): boolean {
  let regex = globCache.get(glob);
  if (!regex) {
    regex = globToRegExp(glob.includes('/') ? glob : `**/${glob}`);
    globCache.set(glob, regex);
  }
  return regex.test(file);
}

function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let index = 0; index < glob.length; index++) {
    const char = glob[index]!;
    if (char === '*' && glob[index + 1] === '*') {
      const slashAfter = glob[index + 2] === '/';
      source += slashAfter ? '(?:.*/)?' : '.*';
      index += slashAfter ? 2 : 1;
    } else if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '{') source += '(?:';
    else if (char === '}') source += ')';
    else if (char === ',') source += '|';
    else source += char.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  // Anchored at a folder boundary so `configs/models/*.yaml` matches `/abs/path/configs/models/x.yaml`.
  return new RegExp(`(?:^|/)${source.replace(/^\(\?:\.\*\/\)\?/, '')}$`);
}
