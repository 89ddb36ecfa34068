// Root hooks for the unit tests: every temporary folder a test makes (os.tmpdir() + mkdtemp) lands in one folder of
// this run, removed when the run ends, so the suite leaves nothing in /tmp however a test ends. Child processes the
// tests spawn inherit TMPDIR and land there too.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const runFolder = mkdtempSync(join(tmpdir(), 'vin-ocr-unit-'));
process.env.TMPDIR = runFolder; // os.tmpdir() reads TMPDIR on every call (POSIX)
process.env.TEMP = runFolder; // and TEMP/TMP on Windows
process.env.TMP = runFolder;

export const mochaHooks = {
  afterAll(): void {
    rmSync(runFolder, { recursive: true, force: true });
  },
};
