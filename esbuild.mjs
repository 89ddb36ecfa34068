// Bundles the extension host code, the CLI and the webview front-ends.
// `vscode` is provided by the host; everything else is bundled so the VSIX ships no node_modules.
// `--integration-tests[=DIR]` also bundles test/integration/** (into dist-test/integration by default) for the
// real-VS-Code runners; each code-server run uses its own DIR so parallel runs never delete each other's suites.
import * as esbuild from 'esbuild';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const watch = process.argv.includes('--watch');
const integrationTestsArg = process.argv.find((arg) => arg === '--integration-tests' || arg.startsWith('--integration-tests='));
const integrationTests = integrationTestsArg !== undefined;
const integrationTestsDir = integrationTestsArg?.split('=')[1] || 'dist-test/integration';
const production = !watch;

/** Every .ts file under a folder (Node 20 has no fs.globSync). */
function typeScriptFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return typeScriptFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** @type {esbuild.BuildOptions[]} */
const builds = [
  {
    entryPoints: { extension: 'src/extension.ts', cli: 'src/cli.ts' },
    outdir: 'dist',
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode'],
    minify: production,
    sourcemap: !production,
    legalComments: 'none',
  },
  {
    entryPoints: { 'webview/hardware': 'media/src/hardware.ts', 'webview/training': 'media/src/training.ts' },
    outdir: 'dist',
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    minify: production,
    sourcemap: !production,
    legalComments: 'none',
  },
];

if (integrationTests) {
  // One file per suite plus the mocha entry (index); mocha itself is loaded from node_modules at run time.
  builds.push({
    entryPoints: typeScriptFiles('test/integration'),
    outbase: 'test/integration',
    outdir: integrationTestsDir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode', 'mocha'],
    sourcemap: 'inline',
    logLevel: 'warning',
  });
}

if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
