// Runs an external tool (nvidia-smi, a Python interpreter) for its output, and never throws:
// a missing, failing, hanging or garbage-printing tool becomes `ok: false` with a readable error.
import type { execa as Execa } from 'execa';

export interface ToolResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  /** Why it failed, for logs and reports ("not found", "timed out after 3000 ms", "exit code 9: …"). */
  error?: string;
}

export interface RunToolOptions {
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Output beyond this is garbage for our purposes; the cap keeps a runaway tool from filling memory. */
const MAX_OUTPUT_BYTES = 1_000_000;
/** How long past the timeout we wait for a killed process to close its pipes before giving up on it. */
const GRACE_MS = 500;

function describeFailure(
  result: { code?: string; timedOut: boolean; exitCode?: number; signal?: string; stderr: string; shortMessage?: string },
  file: string,
  timeoutMs: number,
): string {
  if (result.code === 'ENOENT') return `${file} not found`;
  if (result.code === 'EACCES') return `${file} is not executable`;
  if (result.timedOut) return `timed out after ${timeoutMs} ms`;
  const detail = result.stderr.trim().split('\n').slice(-3).join(' ').slice(0, 300);
  if (result.exitCode !== undefined) return `exit code ${result.exitCode}${detail ? `: ${detail}` : ''}`;
  if (result.signal) return `killed by ${result.signal}`;
  return result.shortMessage ?? 'failed';
}

/**
 * Runs `file args…` without a shell. Resolves within timeoutMs + a short grace even when the tool
 * cannot be killed (a GPU driver stuck in the kernel keeps nvidia-smi alive past SIGKILL).
 */
export async function runTool(file: string, args: readonly string[], options: RunToolOptions): Promise<ToolResult> {
  let subprocess: ReturnType<typeof Execa> | undefined;
  try {
    // execa is ESM-only: a dynamic import loads it in the CommonJS test runner too, and only when needed.
    const { execa } = await import('execa');
    subprocess = execa(file, args, {
      timeout: options.timeoutMs,
      forceKillAfterDelay: GRACE_MS,
      reject: false,
      stdin: 'ignore',
      env: options.env,
      extendEnv: options.env === undefined,
      cwd: options.cwd,
      maxBuffer: MAX_OUTPUT_BYTES,
      stripFinalNewline: false,
      windowsHide: true,
    });
  } catch (error) {
    // execa validates options synchronously; a bad argument is a failure to report, not to throw.
    return { ok: false, stdout: '', stderr: '', error: error instanceof Error ? error.message : String(error) };
  }
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<ToolResult>((resolve) => {
    timer = setTimeout(
      () => {
        subprocess?.kill('SIGKILL');
        resolve({ ok: false, stdout: '', stderr: '', error: `timed out after ${options.timeoutMs} ms (the process did not exit)` });
      },
      options.timeoutMs + 2 * GRACE_MS,
    );
  });
  const finished = subprocess.then(
    (result) => {
      const stdout = typeof result.stdout === 'string' ? result.stdout : '';
      const stderr = typeof result.stderr === 'string' ? result.stderr : '';
      if (!result.failed) return { ok: true, stdout, stderr };
      return { ok: false, stdout, stderr, error: describeFailure({ ...result, stderr }, file, options.timeoutMs) };
    },
    (error: unknown) => ({ ok: false, stdout: '', stderr: '', error: error instanceof Error ? error.message : String(error) }),
  );
  try {
    return await Promise.race([finished, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
