// Entry point the extension host loads (extensionTestsPath): runs every bundled *.test.js next to it with mocha.
// Runner-agnostic: code-server's smoke-test driver and @vscode/test-electron both call run().
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return testFiles(path);
      return entry.name.endsWith('.test.js') ? [path] : [];
    })
    .sort();
}

/**
 * One preformatted line per test: the runners read the extension host's console (code-server forwards it to
 * the page, test-electron to stdout), where mocha's own reporters arrive as unformatted "%s" templates.
 */
class PlainReporter extends Mocha.reporters.Base {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    runner.on('pass', (test) => console.log(`✔ ${test.fullTitle()} (${test.duration ?? 0} ms)`));
    runner.on('pending', (test) => console.log(`- ${test.fullTitle()} (pending)`));
    runner.on('fail', (test, error: Error) => console.log(`✘ ${test.fullTitle()}\n    ${error.stack ?? error.message}`));
    runner.once('end', () => console.log(`${this.stats.passes} passing, ${this.stats.failures} failing, ${this.stats.pending} pending`));
  }
}

/**
 * Which tests to run: VIN_OCR_TEST_GREP, or the pattern in the file VIN_OCR_TEST_GREP_FILE names. The file lets
 * the code-server runner narrow each window differently while one server (and its environment) serves them all.
 */
function grepPattern(): string | undefined {
  if (process.env.VIN_OCR_TEST_GREP) return process.env.VIN_OCR_TEST_GREP;
  const file = process.env.VIN_OCR_TEST_GREP_FILE;
  return file && existsSync(file) ? readFileSync(file, 'utf8').trim() || undefined : undefined;
}

export async function run(): Promise<void> {
  const mocha = new Mocha({
    ui: 'bdd',
    reporter: PlainReporter,
    color: false,
    timeout: 60_000,
    // The runner may narrow the run, e.g. to the workspace-trust suite.
    grep: grepPattern(),
    invert: process.env.VIN_OCR_TEST_INVERT === '1',
  });
  // Suites may use either mocha interface: describe/it or suite/test.
  Mocha.interfaces.tdd(mocha.suite);
  for (const file of testFiles(__dirname)) mocha.addFile(file);
  await mocha.loadFilesAsync();
  const failures = await new Promise<number>((resolve) => mocha.run(resolve));
  if (failures > 0) throw new Error(`${failures} integration test(s) failed`);
}
