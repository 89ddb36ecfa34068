// Bundles the extension host code, the CLI and the webview front-ends.
// `vscode` is provided by the host; everything else is bundled so the VSIX ships no node_modules.
import * as esbuild from 'esbuild';

const watch = process.argv.includes('--watch');
const production = !watch;

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
    entryPoints: { 'webview/hardware': 'media/src/hardware.ts' },
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

if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
