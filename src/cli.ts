#!/usr/bin/env node
// `vin-ocr` command line: the same core as the extension, without VS Code.
// Placeholder until the hardware core lands (issue 2).
process.stdout.write('vin-ocr: no commands yet\n');
