// Starts code-server with VS Code's --enable-smoke-test-driver available.
// code-server 4.100.3 rejects options it does not list, yet hands every parsed option to the VS Code server,
// whose web client honours enable-smoke-test-driver (the payload that runs extension tests). So the option is
// registered here before code-server parses its command line.
//   node code-server-launcher.cjs CODE_SERVER_PACKAGE_DIR [code-server options…]
const path = require('node:path');

const packageDir = process.argv[2];
process.argv.splice(2, 1); // code-server reads its options from process.argv.slice(2)
const cli = require(path.join(packageDir, 'out', 'node', 'cli.js'));
cli.options['enable-smoke-test-driver'] ??= { type: 'boolean', description: 'Let the page drive the workbench (integration tests).' };
require(path.join(packageDir, 'out', 'node', 'entry.js'));
