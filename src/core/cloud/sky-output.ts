// Reading what `sky` prints (SkyPilot 0.14; recordings in test/fixtures/sky/): which clouds `sky check`
// enabled, the clusters of `sky status`, the job's lines and end in `sky launch`/`sky logs`, and every
// failure said our way with its fix. Pure functions over text; ANSI colours are stripped first.

import type { CloudProblem, SkyClusterStatus } from './types';

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]|\u001b\][^\u0007]*\u0007/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

const lines = (text: string): string[] => stripAnsi(text).split(/\r?\n/);

// ---------- sky check ----------

export interface SkyCloudCheck {
  /** As SkyPilot names it: AWS, GCP, Azure, Kubernetes, … */
  name: string;
  enabled: boolean;
  /** compute, storage: what is enabled. */
  capabilities: string[];
  /** SkyPilot's reason for a disabled cloud (credentials or dependencies missing), its first sentence(s). */
  reason?: string;
  /** The commands SkyPilot's reason says to run (`pip install skypilot[aws]`, `aws configure`). */
  commands?: string[];
}

export interface SkyCheckResult {
  clouds: SkyCloudCheck[];
  /** Lower-case names of the enabled clouds (aws, gcp, azure, …). */
  enabled: string[];
}

// `  AWS: enabled [compute, storage]` / `  Azure: disabled` (sky/check.py::_print_checked_cloud).
const CLOUD_LINE = /^ {2}([A-Za-z][\w ./-]*): (enabled|disabled)\s*(?:\[([^\]]*)\])?\s*$/;
const REASON_LINE = /^ {4}Reason \[[^\]]*\]: (.*)$/;
// `      $ aws configure  # Ensure that this shows identity is set.`
const COMMAND_LINE = /^ {6}\$ (.+?)(?:\s+#.*)?$/;

function addReasonLine(cloud: SkyCloudCheck, line: string): void {
  const reason = REASON_LINE.exec(line);
  if (reason && cloud.reason === undefined) {
    cloud.reason = reason[1]!.replace(/\s*Run the following commands:\s*$/, '').trim();
    return;
  }
  const command = COMMAND_LINE.exec(line);
  if (command && cloud.reason !== undefined) (cloud.commands ??= []).push(command[1]!.trim());
}

export function parseSkyCheck(text: string): SkyCheckResult {
  const clouds: SkyCloudCheck[] = [];
  for (const line of lines(text)) {
    const cloud = CLOUD_LINE.exec(line.trimEnd());
    if (cloud) {
      const capabilities = cloud[3] ? cloud[3].split(',').map((item) => item.trim()) : [];
      clouds.push({ name: cloud[1]!.trim(), enabled: cloud[2] === 'enabled', capabilities });
      continue;
    }
    const last = clouds[clouds.length - 1];
    if (last && !last.enabled) addReasonLine(last, line);
  }
  return { clouds, enabled: clouds.filter((cloud) => cloud.enabled).map((cloud) => cloud.name.toLowerCase()) };
}

/** How to give SkyPilot each cloud's credentials: the cloud's own CLI; SkyPilot reads them, we never do. */
const CREDENTIAL_STEPS: Readonly<Record<string, string>> = {
  aws: '`vin-ocr cloud setup --clouds aws` (SkyPilot’s AWS package), then `aws configure`',
  gcp: '`vin-ocr cloud setup --clouds gcp`, then `gcloud init` and `gcloud auth application-default login`',
  azure: '`vin-ocr cloud setup --clouds azure`, then `az login`',
};

/** No enabled cloud at all, or not the one the instance needs: a problem with the credential steps; undefined when fine. */
export function checkProblem(result: SkyCheckResult, wantedCloud?: string): CloudProblem | undefined {
  if (wantedCloud ? result.enabled.includes(wantedCloud) : result.enabled.length > 0) return undefined;
  const wanted = wantedCloud ? [wantedCloud] : Object.keys(CREDENTIAL_STEPS);
  const checked = wantedCloud ? result.clouds.find((cloud) => cloud.name.toLowerCase() === wantedCloud) : undefined;
  const steps = wanted.map((cloud) => `${cloud.toUpperCase()}: ${CREDENTIAL_STEPS[cloud] ?? `see \`sky check ${cloud}\``}`);
  const skyCommands = checked?.commands?.length ? ` SkyPilot says to run: ${checked.commands.join('; ')}.` : '';
  return {
    code: wantedCloud && result.enabled.length ? 'cloud-not-enabled' : 'no-cloud-credentials',
    message: wantedCloud
      ? `SkyPilot has no working credentials for ${wantedCloud.toUpperCase()}${checked?.reason ? `: ${checked.reason}` : '.'}`
      : 'SkyPilot has no cloud enabled: no credentials were found for any cloud.',
    fix: `${steps.join('; ')}; then \`vin-ocr cloud check\`.${skyCommands}`,
  };
}

// ---------- sky status ----------

/** Column start offsets from a table's header line (prettytable without borders: names separated by 2+ spaces). */
function columnStarts(header: string): Array<{ name: string; start: number }> {
  const columns: Array<{ name: string; start: number }> = [];
  const pattern = /\S+(?: \S+)*/g;
  for (let match = pattern.exec(header); match; match = pattern.exec(header)) columns.push({ name: match[0], start: match.index });
  return columns;
}

/**
 * A row's cells: split where two or more spaces separate them (prettytable pads every cell with two), else,
 * when a cell is empty, cut at the header's column offsets.
 */
function sliceRow(row: string, columns: Array<{ name: string; start: number }>): Record<string, string> {
  const cells: Record<string, string> = {};
  const parts = row.trim().split(/\s{2,}/);
  if (parts.length === columns.length) {
    columns.forEach((column, index) => (cells[column.name] = parts[index]!));
    return cells;
  }
  columns.forEach((column, index) => {
    const end = index + 1 < columns.length ? columns[index + 1]!.start : undefined;
    cells[column.name] = row.slice(column.start, end).trim();
  });
  return cells;
}

/** The `Clusters` table of `sky status` (NAME, INFRA, RESOURCES, STATUS, AUTOSTOP, LAUNCHED). */
export function parseSkyStatus(text: string): SkyClusterStatus[] {
  const all = lines(text);
  const headerIndex = all.findIndex((line) => /^NAME\s{2,}/.test(line) && /\sSTATUS(\s|$)/.test(line));
  if (headerIndex < 0) return [];
  const columns = columnStarts(all[headerIndex]!);
  const clusters: SkyClusterStatus[] = [];
  for (const row of all.slice(headerIndex + 1)) {
    if (!row.trim()) break;
    const cells = sliceRow(row, columns);
    if (!cells.NAME || !cells.STATUS) continue;
    clusters.push({
      name: cells.NAME,
      status: cells.STATUS,
      ...(cells.RESOURCES ? { resources: cells.RESOURCES } : {}),
      ...(cells.AUTOSTOP ? { autostop: cells.AUTOSTOP } : {}),
    });
  }
  return clusters;
}

// ---------- sky launch / sky logs ----------

export interface ChosenResources {
  infra: string;
  instance: string;
  gpus: string;
  /** The optimizer's cost column: USD for one hour of all nodes. */
  costPerHour: number;
}

/** The row marked ✔ in `sky launch`'s "Considered resources" table; undefined when it printed none. */
export function parseChosenResources(text: string): ChosenResources | undefined {
  const all = lines(text);
  const headerIndex = all.findIndex((line) => /\bINFRA\b.*\bINSTANCE\b.*\bCHOSEN\b/.test(line));
  if (headerIndex < 0) return undefined;
  const columns = columnStarts(all[headerIndex]!);
  const cost = columns.find((column) => column.name.startsWith('COST'));
  for (const row of all.slice(headerIndex + 1)) {
    if (/^-+$/.test(row.trim())) continue;
    if (!row.trim()) break;
    const cells = sliceRow(row, columns);
    if (cells.CHOSEN !== '✔' || !cost) continue;
    const costPerHour = Number(cells[cost.name]);
    if (!Number.isFinite(costPerHour)) return undefined;
    return { infra: cells.INFRA ?? '', instance: cells.INSTANCE ?? '', gpus: cells.GPUS ?? '', costPerHour };
  }
  return undefined;
}

/** `⚙︎ Job submitted, ID: 3` (sky/backends/cloud_vm_ray_backend.py). */
export function parseJobId(line: string): number | undefined {
  const match = /Job submitted, ID: (\d+)/.exec(stripAnsi(line));
  return match ? Number(match[1]) : undefined;
}

/** `✓ Job finished (status: SUCCEEDED).` (sky/skylet/log_lib.py): SUCCEEDED, FAILED, FAILED_SETUP, CANCELLED, … */
export function parseJobFinished(line: string): string | undefined {
  return /Job finished \(status: ([A-Z_]+)\)/.exec(stripAnsi(line))?.[1];
}

export interface JobLine {
  /** `head`, `worker1`, the task's name on a one-node cluster, or `setup`; undefined for SkyPilot's own lines. */
  node?: string;
  rank?: number;
  text: string;
}

// `(head, rank=0, pid=2345) …`, `(worker1, rank=1, pid=2345, ip=10.0.0.2) …`, `(task, pid=2345) …`,
// `(setup pid=2345) …` (sky/backends/task_codegen.py and sky/skylet/executor/slurm.py).
const JOB_PREFIX = /^\(([\w.-]+)(?:, rank=(\d+))?,? pid=\d+(?:, ip=[\d.:a-f]+)?\) ?/;

/** A job's output line without SkyPilot's node prefix. */
export function parseJobLine(line: string): JobLine {
  // What a terminal shows of a line a spinner redrew: the text after its last carriage return.
  const plain = stripAnsi(line.slice(line.lastIndexOf('\r') + 1));
  const match = JOB_PREFIX.exec(plain);
  if (!match) return { text: plain };
  return { node: match[1], ...(match[2] !== undefined ? { rank: Number(match[2]) } : {}), text: plain.slice(match[0].length) };
}

/** A trainer event in a job line: JSON from the head node (rank 0) only, so several ranks never double the stream. */
export function eventTextOf(line: JobLine): string | undefined {
  if (line.node === 'setup' || (line.rank !== undefined && line.rank !== 0)) return undefined;
  const text = line.text.trim();
  return text.startsWith('{') && text.endsWith('}') ? text : undefined;
}

/** After Ctrl+C `sky` says `To cancel the request, run: sky api cancel 1a2b3c4d` (sky/client/cli/command.py). */
export function parseRequestCancelHint(text: string): string | undefined {
  return /sky api cancel ([0-9a-f-]{4,})/.exec(stripAnsi(text))?.[1];
}

// ---------- failures ----------

interface FailureRule {
  code: string;
  test: RegExp;
  message: (match: RegExpExecArray, text: string) => string;
  fix: string;
}

const lastErrorLine = (text: string): string =>
  lines(text)
    .map((line) => line.trim())
    .filter((line) => /error|exception|failed|not found|does not exist/i.test(line))
    .pop() ?? 'no error message';

// Order matters: a quota or capacity failure ends in a ResourcesUnavailableError too, and says more before it.
const FAILURE_RULES: readonly FailureRule[] = [
  {
    code: 'sky-no-cloud',
    test: /Cloud access is not set up|No infra to check\/enabled|NoCloudAccessError|which (?:is|are) not enabled/,
    message: () => 'SkyPilot has no cloud enabled for this instance (no credentials, or its cloud package is missing).',
    fix: 'Run `vin-ocr cloud check` and follow its steps for the cloud of this instance, then launch again.',
  },
  {
    code: 'sky-catalog-offline',
    test: /Failed to fetch \w+ catalog|raw\.githubusercontent\.com|skypilot-catalog/,
    message: () => 'SkyPilot could not download its instance catalog: this machine seems to be offline.',
    fix: 'Connect to the internet (SkyPilot refreshes its price and instance catalog every 7 hours), then launch again.',
  },
  {
    code: 'sky-quota',
    test: new RegExp(
      ['QUOTA_EXCEEDED', 'quotaExceeded', 'VcpuLimitExceeded', 'MaxSpotInstanceCountExceeded', 'QuotaExceeded'].join('|') +
        "|Quota '[^']+' exceeded|exceeding approved \\w+ quota",
    ),
    message: (match) => `The cloud account's quota does not allow this instance (${match[0]}).`,
    fix:
      'Ask for a quota increase for this GPU family and region in the cloud console, ' +
      'or pick another instance (--instance), or drop --spot.',
  },
  {
    code: 'sky-capacity',
    test: new RegExp(
      [
        'InsufficientInstanceCapacity',
        'ZONE_RESOURCE_POOL_EXHAUSTED',
        'SkuNotAvailable',
        'AllocationFailed',
        'ResourcesUnavailableError',
      ].join('|') + '|Failed to provision all possible launchable resources',
    ),
    message: (_match, text) => {
      const cloudCode = /InsufficientInstanceCapacity|ZONE_RESOURCE_POOL_EXHAUSTED\w*|SkuNotAvailable|AllocationFailed/.exec(text)?.[0];
      return `No capacity for this instance in any region SkyPilot tried${cloudCode ? ` (${cloudCode})` : ''}.`;
    },
    fix:
      'Try again later, allow other regions or clouds (an accelerator spec such as A10G:1) or another instance; ' +
      '`sky launch --retry-until-up` waits for capacity.',
  },
  {
    code: 'sky-invalid-resources',
    test: /does not contain any instances satisfying the request|Invalid instance type|ResourcesMismatchError|No launchable resource found/,
    message: () => 'SkyPilot’s catalog has no such instance or accelerator on the enabled clouds.',
    fix: 'Pick an instance from `vin-ocr cloud plan --help` or an accelerator spec SkyPilot lists (`sky gpus list`).',
  },
  {
    code: 'sky-invalid-task',
    test: /Invalid task YAML|Invalid resources YAML|InvalidSkyPilotConfigError/,
    message: (_match, text) => `SkyPilot rejected the task: ${lastErrorLine(text)}`,
    fix: 'This is a bug in the task vin-ocr wrote: please report it with the output of `vin-ocr cloud plan`.',
  },
  {
    code: 'sky-down-failed',
    test: /Terminating cluster \S+\.\.\.failed|Cluster\(s\) failed/,
    message: (_match, text) => `SkyPilot could not tear the cluster down: ${lastErrorLine(text)}`,
    fix: 'Check the instances in the cloud console; if they are gone already, `sky down --purge CLUSTER` forgets the cluster.',
  },
  {
    code: 'sky-cluster-missing',
    test: /ClusterDoesNotExist|Cluster '[^']+' does not exist|Cluster\(s\) not found/,
    message: () => 'There is no such cluster (it was torn down, or never launched).',
    fix: 'See the clusters with `vin-ocr cloud status`.',
  },
  {
    code: 'sky-setup-failed',
    test: /setup failed|Job finished \(status: FAILED_SETUP\)/,
    message: () => 'Installing the trainer’s packages on the cluster failed (setup).',
    fix: 'Read the setup output above (`vin-ocr cloud logs CLUSTER`), then `vin-ocr cloud down CLUSTER`.',
  },
  {
    code: 'sky-api-server',
    test: /ApiServerConnectionError|Could not connect to SkyPilot API server|Failed to start SkyPilot API server/,
    message: () => 'SkyPilot’s local API server did not start or answer.',
    fix: 'Run `sky api stop`, then `sky api start` (or look at ~/.sky/api_server/server.log) and try again.',
  },
];

/** What went wrong in a failed `sky` command, said our way; `generic` when no rule knows the output. */
export function classifySkyFailure(output: string, exitCode: number | undefined): CloudProblem {
  const plain = stripAnsi(output);
  for (const rule of FAILURE_RULES) {
    const match = rule.test.exec(plain);
    if (match) return { code: rule.code, message: rule.message(match, plain), fix: rule.fix };
  }
  return {
    code: 'sky-failed',
    message: `sky failed${exitCode === undefined ? '' : ` (exit code ${exitCode})`}: ${lastErrorLine(plain)}`,
    fix: 'Read SkyPilot’s output above; `vin-ocr cloud check` shows the enabled clouds.',
  };
}
