// Shared helpers for the config tests: fixture paths, recorded machines and a compact problem view.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { HardwareFacts } from '../../../src/core/hardware/types';
import type { Problem } from '../../../src/core/config/problem';
import { validateText, type ValidateOptions } from '../../../src/core/config/validate';

export const FIXTURES = resolve('test/fixtures/configs');

export function fixture(...parts: string[]): string {
  return join(FIXTURES, ...parts);
}

export function facts(name: 't4-linux' | 'a100-flash' | 'macbook-m1-8gb' | 'cpu-laptop-4gb'): HardwareFacts {
  return JSON.parse(readFileSync(fixture('facts', `${name}.json`), 'utf8')) as HardwareFacts;
}

/** Validates a fixture file the way the CLI does (real file system, repository as the workspace). */
export function validateFixture(path: string, options: Partial<ValidateOptions> = {}): Problem[] {
  return validateText(readFileSync(path, 'utf8'), { file: path, workspaceRoot: resolve('.'), fileExists: existsSync, ...options });
}

/** "line:column code" for each problem: what a reader checks against the file. */
export function brief(problems: Problem[]): string[] {
  return problems.map((problem) => `${problem.line}:${problem.column} ${problem.code}`);
}

export function only(problems: Problem[], code: Problem['code']): Problem[] {
  return problems.filter((problem) => problem.code === code);
}
