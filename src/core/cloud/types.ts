// The contract between the cloud core (plan, sky, instances: plain TypeScript shared with the CLI)
// and its users (the `vin-ocr cloud` CLI, the cloud launcher and the "Train on Cloud…" feature).
// SkyPilot is the engine: we write its task files and drive its `sky` executable, nothing more.

/** One instance a user can pick: a row of data/requirements.json's cloud table, or a bare accelerator spec ("A100:8"). */
export interface CloudTarget {
  /** What the user typed or picked: "g5.xlarge", "n1-standard-8+t4", "A100:8". */
  id: string;
  label: string;
  /** aws | gcp | azure, or undefined: SkyPilot chooses among the enabled clouds. */
  cloud?: string;
  /** Passed as resources.instance_type when set. */
  instanceType?: string;
  /** SkyPilot's accelerator spec, e.g. "A10G:1", "T4:1", "A100:8". */
  accelerators?: string;
  gpusPerNode: number;
  /** VRAM of one GPU in MiB when known (from the table), for the fit verdict. */
  vramMib?: number;
}

/** What `vin-ocr cloud plan` and "Train on Cloud…" ask for. */
export interface CloudPlanRequest {
  /** The training config (YAML) to run. */
  configPath: string;
  /** A CloudTarget id or an accelerator spec. */
  instance: string;
  nodes?: number;
  spot?: boolean;
  /** Default: vin-ocr-<run id>; lower-case letters, digits and dashes. */
  clusterName?: string;
  /** Idle minutes before SkyPilot stops the cluster; default 30; 0 turns autostop off (asks for it explicitly). */
  autostopMinutes?: number;
  /** `<extensionRoot>/trainer`: the bundled trainer, uploaded as (part of) the workdir. */
  trainerDir: string;
  /** Where the workdir and task file are staged (default: the system's temporary folder). */
  stagingRoot?: string;
}

/** A problem with the request, said our way (never SkyPilot's traceback). */
export interface CloudProblem {
  code: string;
  message: string;
  fix: string;
  /** The config file and 1-based line when the problem is in the config. */
  file?: string;
  line?: number;
}

/** A SkyPilot task ready to launch. */
export interface CloudPlan {
  target: CloudTarget;
  nodes: number;
  clusterName: string;
  autostopMinutes: number;
  /** The task as YAML text (SkyPilot's task schema). */
  taskYaml: string;
  /** Staged folder uploaded as the task's workdir (the trainer and the rewritten config). */
  workdir: string;
  /** Remote path of the run folder on the head node, copied back when the run ends. */
  remoteRunDir: string;
  /** Local dataset folders or bucket URIs mounted on the nodes, by remote path. */
  fileMounts: Record<string, string>;
  spot?: boolean;
  /** The task YAML written to disk (beside the workdir), what `sky launch` is given. */
  taskFile?: string;
  /** The staging folder holding workdir and taskFile; remove it once the launch is over (removeStaging). */
  stagingDir?: string;
  /** Findings that do not block the run (e.g. the model fits the instance only at its minimum). */
  warnings?: CloudProblem[];
}

export type CloudPlanResult = { ok: true; plan: CloudPlan } | { ok: false; problems: CloudProblem[] };

/** A `sky` executable found on this machine. */
export interface SkyInstallation {
  path: string;
  /** Where it was found: the vinOcr.cloud.skyPath setting (trusted workspaces only), PATH, or our own environment. */
  source: 'setting' | 'path' | 'managed-environment';
  version?: string;
}

/** One line of `sky status`, as we use it. */
export interface SkyClusterStatus {
  name: string;
  /** UP | STOPPED | INIT | … as SkyPilot prints it. */
  status: string;
  resources?: string;
  autostop?: string;
}
