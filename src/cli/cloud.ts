// `vin-ocr cloud …`: train on a cloud instance through SkyPilot. `plan` writes the task; `launch` plans, runs
// `sky launch` (argument arrays, no shell) and streams the trainer's events back; `status`, `logs`, `down`
// and `check` wrap the `sky` commands of the same names with our messages. SkyPilot lives in its own
// environment: `--sky PATH`, $VIN_OCR_SKY, `sky` on PATH, or the one `vin-ocr cloud setup` creates.

import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { SkyJobStream, type JobOutcome } from '../core/cloud/job-stream';
import { DEFAULT_AUTOSTOP_MINUTES, planCloudRun, removeStaging } from '../core/cloud/plan';
import { findSky, planSkyEnvironment, runSky, skyArgs, skyRequirement, type SkyRunResult } from '../core/cloud/sky';
import { checkProblem, classifySkyFailure, parseSkyCheck, parseSkyStatus, stripAnsi } from '../core/cloud/sky-output';
import { ACCELERATOR_SPEC_SYNTAX, listCloudTargets } from '../core/cloud/targets';
import type { CloudPlan, CloudProblem, SkyInstallation } from '../core/cloud/types';
import { findBasePython } from '../core/interpreter/resolve';
import { runEnvironmentPlan } from '../core/trainer/environment';
import { findTrainerDir } from './doctor';
import { cliStorageDir } from './storage';
import { ProgressReporter } from './train';

export const CLOUD_USAGE = `Usage: vin-ocr cloud <command> [options]

Commands:
  plan CONFIG --instance NAME [--nodes N] [--spot] [--cluster NAME] [--autostop MIN] [--out FILE] [--json]
                         write the SkyPilot task for a run (printed, or to FILE)
  launch CONFIG --instance NAME [same options] [--json]
                         plan, then \`sky launch\`; streams the trainer's log (its events with --json)
  status [CLUSTER] [--json]   the clusters SkyPilot knows
  logs CLUSTER [JOB] [--json] stream a job's output again
  down CLUSTER                tear a cluster down (stops its cost)
  check [--json]              which clouds SkyPilot has credentials for
  instances [--json]          the instances --instance knows
  setup [--clouds aws,gcp,azure]   create SkyPilot's own environment (${skyRequirement()}, ~460 MB)

Options:
  --instance NAME   an instance of our table (vin-ocr cloud instances) or an accelerator spec: ${ACCELERATOR_SPEC_SYNTAX}
  --nodes N         machines, each running the trainer under torchrun on all its GPUs (default 1)
  --spot            spot instances (cheaper, may be preempted; autostop then tears the cluster down)
  --cluster NAME    the cluster's name (default vin-ocr-<date>-<time>-<model>-cloud)
  --autostop MIN    idle minutes before the cluster stops (default ${DEFAULT_AUTOSTOP_MINUTES}; 0: never)
  --sky PATH        the sky executable (default: $VIN_OCR_SKY, sky on PATH, then the environment of \`cloud setup\`)
Exit status: 0 success, 1 failed (the reason and its fix on stderr), 2 usage error, 130 cancelled.
`;

const write = (line: string) => process.stderr.write(`${line}\n`);
const say = (line: string) => write(`vin-ocr cloud: ${line}`);

export { cliStorageDir };

class UsageError extends Error {}

interface CloudCliOptions {
  command: string;
  positionals: string[];
  instance?: string;
  nodes?: number;
  spot: boolean;
  cluster?: string;
  autostop?: number;
  out?: string;
  json: boolean;
  sky?: string;
  clouds: string[];
}

function wholeNumber(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`${name} needs a whole number, not "${text}"`);
  return Number(text);
}

function parseCloudArgs(args: string[]): CloudCliOptions | 'help' {
  const { values, positionals } = parseArgs({
    args,
    options: {
      instance: { type: 'string' },
      nodes: { type: 'string' },
      spot: { type: 'boolean', default: false },
      cluster: { type: 'string' },
      autostop: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean', default: false },
      sky: { type: 'string' },
      clouds: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) return 'help';
  return {
    command,
    positionals: rest,
    instance: values.instance,
    nodes: wholeNumber(values.nodes, '--nodes'),
    spot: values.spot,
    cluster: values.cluster,
    autostop: wholeNumber(values.autostop, '--autostop'),
    out: values.out,
    json: values.json,
    sky: values.sky,
    clouds: values.clouds ? values.clouds.split(',').map((cloud) => cloud.trim()) : [],
  };
}

function printProblems(problems: readonly CloudProblem[], severity: 'error' | 'warning' = 'error'): void {
  for (const problem of problems) {
    const where = problem.file ? `${problem.file}:${problem.line ?? 1}:1 ` : '';
    write(`${where}${severity} ${problem.code} ${problem.message}`);
    write(`  fix: ${problem.fix}`);
  }
}

// ---------- sky ----------

async function requireSky(options: CloudCliOptions): Promise<SkyInstallation | undefined> {
  // A path given on our own command line (or in our own variable) is the user's choice: trusted.
  const given = options.sky ?? process.env.VIN_OCR_SKY;
  if (given && !existsSync(given)) {
    say(`${given} (${options.sky ? '--sky' : 'VIN_OCR_SKY'}) does not exist.`);
    return undefined;
  }
  const sky = await findSky({ settingPath: given, settingIsUserLevel: true, workspaceTrusted: true, storageDir: cliStorageDir() });
  if (sky) return sky;
  say("SkyPilot's `sky` was not found (not on PATH, no --sky, no environment of `vin-ocr cloud setup`).");
  write(`  fix: run \`vin-ocr cloud setup --clouds aws\` (your clouds) to install ${skyRequirement()} into its own environment`);
  write(
    `       under ${cliStorageDir()}, or install it yourself:` +
      ` python3 -m venv ~/sky-venv && ~/sky-venv/bin/pip install "${skyRequirement(['aws'])}"`,
  );
  write("       and pass --sky ~/sky-venv/bin/sky. Keep it out of the trainer's environment (SkyPilot is ~460 MB).");
  return undefined;
}

/** Runs sky with its output passed through to stderr (or collected only, when `quiet`). */
function sky(installation: SkyInstallation, args: string[], quiet = false, signal?: AbortSignal): Promise<SkyRunResult> {
  return runSky(installation, args, { signal, onLine: quiet ? undefined : (line) => write(line) });
}

function skyFailed(result: SkyRunResult): number {
  if (result.spawnError) {
    say(`could not start sky: ${result.spawnError}`);
    return 1;
  }
  printProblems([classifySkyFailure(result.output, result.exitCode)]);
  return 1;
}

// ---------- plan and launch ----------

async function plan(options: CloudCliOptions): Promise<CloudPlan | number> {
  if (options.positionals.length !== 1) throw new UsageError(options.positionals.length ? 'give exactly one config' : 'no config given');
  if (!options.instance) throw new UsageError('--instance is required (see `vin-ocr cloud instances`)');
  const result = await planCloudRun({
    configPath: options.positionals[0]!,
    instance: options.instance,
    nodes: options.nodes,
    spot: options.spot,
    clusterName: options.cluster,
    autostopMinutes: options.autostop,
    trainerDir: findTrainerDir(),
  });
  if (!result.ok) {
    if (options.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    printProblems(result.problems);
    say('nothing was planned or launched.');
    return 1;
  }
  printProblems(result.plan.warnings ?? [], 'warning');
  return result.plan;
}

async function runPlan(options: CloudCliOptions): Promise<number> {
  const planned = await plan(options);
  if (typeof planned === 'number') return planned;
  if (options.out) await writeFile(options.out, planned.taskYaml);
  if (options.json) process.stdout.write(`${JSON.stringify({ ok: true, plan: planned }, null, 2)}\n`);
  else if (!options.out) process.stdout.write(planned.taskYaml);
  say(`task for ${planned.target.label}, ${planned.nodes} node(s), cluster ${planned.clusterName}`);
  say(`staged workdir: ${planned.workdir}${options.out ? `; task written to ${options.out}` : ''}`);
  say(`launch it: vin-ocr cloud launch … (or sky launch -c ${planned.clusterName} ${options.out ?? planned.taskFile})`);
  return 0;
}

/** A terminal that closes must not leave `sky` running: Ctrl+C, SIGTERM and SIGHUP all cancel. */
const CANCEL_SIGNALS: NodeJS.Signals[] = process.platform === 'win32' ? ['SIGINT', 'SIGTERM'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];

function streamJob(options: CloudCliOptions): SkyJobStream {
  const progress = new ProgressReporter((line) => write(line.replace(/^vin-ocr train:/, 'vin-ocr cloud:')));
  return new SkyJobStream({
    onEvent: (event, json) => {
      progress.onEvent(event);
      // The trainer's own events (schemas/trainer-events.schema.json), as it wrote them.
      if (options.json) process.stdout.write(`${json}\n`);
    },
    // SkyPilot colours its lines; a log file or a pipe gets them plain.
    onLog: (line) => write(process.stderr.isTTY ? line : stripAnsi(line)),
  });
}

/** After Ctrl+C: the provisioning request (if the job was not submitted yet) and the job itself are cancelled. */
async function cancelRemote(installation: SkyInstallation, stream: SkyJobStream, cluster: string): Promise<void> {
  if (stream.jobId === undefined && stream.cancelRequestId) {
    // Still provisioning: the API server would carry on without the client; no job exists yet.
    say(`cancelling SkyPilot's launch request ${stream.cancelRequestId}…`);
    await sky(installation, skyArgs.apiCancel(stream.cancelRequestId), true);
    return;
  }
  say(`cancelling the job on ${cluster}…`);
  await sky(installation, skyArgs.cancel(cluster, stream.jobId), true);
}

function reportOutcome(outcome: JobOutcome, planned: CloudPlan, options: CloudCliOptions): number {
  const cluster = planned.clusterName;
  if (outcome.problem && outcome.status === 'failed') printProblems([outcome.problem]);
  // The run's end in the event stream, for runs whose trainer never said it (a launch that failed, a cancel).
  if (options.json && outcome.status !== 'succeeded') {
    const problem = outcome.problem;
    const event = {
      event: 'run_finished',
      time: new Date().toISOString(),
      status: outcome.status,
      ...(problem ? { error: { code: problem.code, message: problem.message, hint: problem.fix } } : {}),
    };
    process.stdout.write(`${JSON.stringify(event)}\n`);
  }
  const autostop =
    planned.autostopMinutes > 0 ? `; it ${planned.spot ? 'is torn down' : 'stops'} after ${planned.autostopMinutes} idle minutes` : '';
  if (outcome.jobId !== undefined || outcome.status === 'cancelled') {
    say(`run ${outcome.status}. The cluster ${cluster} may still be up${autostop}.`);
    say(
      `runs are in ${planned.remoteRunDir} on the head node (rsync -a ${cluster}:${planned.remoteRunDir}/ runs/); ` +
        `tear it down: vin-ocr cloud down ${cluster}`,
    );
  } else {
    say(
      `run ${outcome.status}; nothing is running here. ` +
        `If \`vin-ocr cloud status\` lists ${cluster}, tear it down: vin-ocr cloud down ${cluster}`,
    );
  }
  return outcome.status === 'succeeded' ? 0 : outcome.status === 'cancelled' ? 130 : 1;
}

/** A launch that failed for lack of credentials gets `sky check`'s own reason for the instance's cloud. */
async function explainNoCloud(installation: SkyInstallation, outcome: JobOutcome, planned: CloudPlan): Promise<JobOutcome> {
  if (outcome.problem?.code !== 'sky-no-cloud') return outcome;
  const check = await sky(installation, skyArgs.check(planned.target.cloud ? [planned.target.cloud] : []), true);
  const problem = checkProblem(parseSkyCheck(check.output), planned.target.cloud);
  return problem ? { ...outcome, problem } : outcome;
}

async function runLaunch(options: CloudCliOptions): Promise<number> {
  const planned = await plan(options);
  if (typeof planned === 'number') return planned;
  const installation = await requireSky(options);
  if (!installation) {
    await removeStaging(planned);
    return 1;
  }
  say(`launching ${planned.target.label} × ${planned.nodes} as cluster ${planned.clusterName} (${installation.path})`);
  const stream = streamJob(options);
  const abort = new AbortController();
  let cancelling = false;
  const cancel = () => {
    if (cancelling) return;
    cancelling = true;
    say('cancelling…');
    abort.abort();
  };
  for (const signal of CANCEL_SIGNALS) process.on(signal, cancel);
  try {
    const result = await runSky(installation, skyArgs.launch(planned.taskFile!, planned.clusterName), {
      signal: abort.signal,
      keepOutput: false,
      onLine: (line) => stream.push(line),
    });
    if (result.spawnError) return skyFailed(result);
    if (cancelling) await cancelRemote(installation, stream, planned.clusterName);
    const outcome = await explainNoCloud(installation, stream.outcome(result.exitCode, cancelling), planned);
    return reportOutcome(outcome, planned, options);
  } finally {
    for (const signal of CANCEL_SIGNALS) process.off(signal, cancel);
    await removeStaging(planned);
  }
}

// ---------- status, logs, down, check, instances, setup ----------

async function runStatus(options: CloudCliOptions, installation: SkyInstallation): Promise<number> {
  const result = await sky(installation, skyArgs.status(options.positionals[0]), true);
  if (result.exitCode !== 0) return skyFailed(result);
  const clusters = parseSkyStatus(result.output);
  if (options.json) process.stdout.write(`${JSON.stringify(clusters, null, 2)}\n`);
  else if (!clusters.length)
    process.stdout.write(options.positionals[0] ? `No cluster named ${options.positionals[0]}.\n` : 'No clusters.\n');
  else
    for (const cluster of clusters)
      process.stdout.write(`${[cluster.name, cluster.status, cluster.resources ?? '', cluster.autostop ?? ''].join('  ').trimEnd()}\n`);
  return 0;
}

async function runLogs(options: CloudCliOptions, installation: SkyInstallation): Promise<number> {
  const [cluster, job] = options.positionals;
  if (!cluster) throw new UsageError('logs needs a CLUSTER');
  const jobId = wholeNumber(job, 'JOB');
  const stream = streamJob(options);
  const result = await runSky(installation, skyArgs.logs(cluster, jobId), { keepOutput: false, onLine: (line) => stream.push(line) });
  if (result.spawnError) return skyFailed(result);
  const outcome = stream.outcome(result.exitCode, false);
  if (outcome.problem) printProblems([outcome.problem]);
  return outcome.status === 'succeeded' ? 0 : 1;
}

async function runDown(options: CloudCliOptions, installation: SkyInstallation): Promise<number> {
  const cluster = options.positionals[0];
  if (!cluster) throw new UsageError('down needs a CLUSTER');
  const result = await sky(installation, skyArgs.down(cluster), true);
  const output = stripAnsi(result.output);
  // `sky down` exits 0 even when a cluster failed to terminate: its words tell.
  if (result.exitCode !== 0 || /Cluster\(s\) failed/.test(output)) return skyFailed(result);
  if (/Cluster\(s\) not found/.test(output)) {
    say(`there is no cluster named ${cluster}: nothing to tear down.`);
    return 0;
  }
  say(`cluster ${cluster} torn down.`);
  return 0;
}

async function runCheck(options: CloudCliOptions, installation: SkyInstallation): Promise<number> {
  say('asking SkyPilot which clouds it can use (the first call starts its local API server: up to 30 s)…');
  const result = await sky(installation, skyArgs.check(options.positionals), true);
  if (result.exitCode !== 0) return skyFailed(result);
  const checked = parseSkyCheck(result.output);
  if (options.json) process.stdout.write(`${JSON.stringify(checked, null, 2)}\n`);
  else
    for (const cloud of checked.clouds.filter((entry) => entry.enabled))
      process.stdout.write(`${cloud.name}: enabled [${cloud.capabilities.join(', ')}]\n`);
  const problem = checkProblem(checked);
  if (problem) printProblems([problem]);
  return problem ? 1 : 0;
}

function runInstances(options: CloudCliOptions): number {
  const targets = listCloudTargets();
  if (options.json) process.stdout.write(`${JSON.stringify(targets, null, 2)}\n`);
  else for (const target of targets) process.stdout.write(`${target.id.padEnd(24)} ${target.label}\n`);
  if (!options.json) process.stdout.write(`or an accelerator spec: ${ACCELERATOR_SPEC_SYNTAX}\n`);
  return 0;
}

async function runSetup(options: CloudCliOptions): Promise<number> {
  const basePython = await findBasePython();
  if (!basePython) {
    say("no python3 on PATH to create SkyPilot's environment with; install Python 3.9 or newer.");
    return 1;
  }
  const storage = cliStorageDir();
  const environment = planSkyEnvironment(storage, {
    basePython,
    extras: options.clouds,
    venvExists: existsSync(path.join(storage, 'sky-env', 'bin')),
  });
  try {
    await runEnvironmentPlan(environment, write);
  } catch (error) {
    say(`${(error as Error).message}`);
    return 1;
  }
  say(`SkyPilot is ready: ${environment.sky}. Next: vin-ocr cloud check`);
  return 0;
}

const SKY_COMMANDS: Record<string, (options: CloudCliOptions, installation: SkyInstallation) => Promise<number>> = {
  status: runStatus,
  logs: runLogs,
  down: runDown,
  check: runCheck,
};

async function dispatch(options: CloudCliOptions): Promise<number> {
  if (options.command === 'plan') return runPlan(options);
  if (options.command === 'launch') return runLaunch(options);
  if (options.command === 'instances') return runInstances(options);
  if (options.command === 'setup') return runSetup(options);
  const command = SKY_COMMANDS[options.command];
  if (!command) throw new UsageError(`unknown command "${options.command}"`);
  const installation = await requireSky(options);
  return installation ? command(options, installation) : 1;
}

export async function runCloud(args: string[]): Promise<number> {
  let options: CloudCliOptions | 'help';
  try {
    options = parseCloudArgs(args);
  } catch (error) {
    process.stderr.write(`vin-ocr cloud: ${(error as Error).message}\n\n${CLOUD_USAGE}`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(CLOUD_USAGE);
    return args.length ? 0 : 2;
  }
  try {
    return await dispatch(options);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`vin-ocr cloud: ${error.message}\n\n${CLOUD_USAGE}`);
    return 2;
  }
}
