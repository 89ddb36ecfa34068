#!/usr/bin/env node
// `vin-ocr` command line: the same core as the extension, without VS Code.
import { runCloud } from './cli/cloud';
import { runDoctor } from './cli/doctor';
import { runRuns } from './cli/runs';
import { runTrain } from './cli/train';
import { runValidate } from './cli/validate';

const USAGE = `Usage: vin-ocr <command> [options]

Commands:
  doctor [--json] [--facts FILE] [--dump-facts]   what this (or a described) machine can train
  validate FILE… [--facts FILE] [--json]          check model, trainer and training YAML
  train CONFIG [--max-steps N] [--json] …         validate, then train with the bundled trainer
  runs [OUTPUT_DIR…] [--json]                     list training runs and their best metrics
  cloud plan|launch|status|logs|down|check …      train on a cloud instance with SkyPilot (vin-ocr cloud --help)
`;

const commands: Record<string, (args: string[]) => Promise<number>> = {
  doctor: runDoctor,
  validate: runValidate,
  train: runTrain,
  runs: runRuns,
  cloud: runCloud,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`vin-ocr: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  return command(args);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`vin-ocr: internal error: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 3;
  },
);
