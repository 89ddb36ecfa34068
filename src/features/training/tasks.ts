// The `vin-ocr` task type: training from tasks.json, with the `$vin-ocr-trainer` problem matcher.
// A task runs the bundled CLI's `vin-ocr train` (ProcessExecution: arguments as an array, no shell)
// with the interpreter this window resolved, so it goes through the same launcher (own process
// group, tree kill) and the same crash classification as "VIN OCR: Train", and closing the task's
// terminal cancels the trainer gracefully instead of orphaning its workers.
import { isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import { DEEPSEEK_ENVIRONMENT_INFO, PADDLE_ENVIRONMENT_INFO, type FamilyEnvironment } from '../../core/trainer/family-environments';
import { NOT_CONFIGS_GLOB } from '../../core/trainer/run-layout';
import { cliTrainArgs, type DeviceChoice } from '../../core/trainer/trainer-args';
import { isTrainingConfigText } from '../../core/trainer/training-config';
import type { InterpreterService } from '../interpreter';

interface VinOcrTaskDefinition extends vscode.TaskDefinition {
  type: 'vin-ocr';
  config: string;
  command?: 'train';
  resume?: string;
  device?: DeviceChoice;
}

/**
 * The extension host's own runtime runs the CLI: Node in a remote or web host, VS Code's Electron
 * (as plain Node, through ELECTRON_RUN_AS_NODE) on the desktop. No separate Node install needed.
 */
function cliExecution(
  cliPath: string,
  python: string,
  config: string,
  definition: VinOcrTaskDefinition,
  cwd: string,
  familyPython: FamilyPythonOf,
): vscode.ProcessExecution {
  const args = cliTrainArgs(cliPath, python, config, {
    resumeFrom: definition.resume,
    device: definition.device,
    paddlePython: familyPython(PADDLE_ENVIRONMENT_INFO),
    deepseekPython: familyPython(DEEPSEEK_ENVIRONMENT_INFO),
  });
  return new vscode.ProcessExecution(process.execPath, args, {
    cwd,
    env: { ELECTRON_RUN_AS_NODE: '1' },
  });
}

/** A family environment's interpreter as this window resolved it (never from a workspace's setting). */
type FamilyPythonOf = (environment: FamilyEnvironment) => string | undefined;

/**
 * `familyPython`: the family environments this window resolved, handed to the CLI (`--paddle-python`, and
 * `--deepseek-python`, which a deepseek-ocr config's trainer runs with), as "VIN OCR: Train" uses them.
 */
export function createTaskProvider(
  interpreter: InterpreterService,
  cliPath: string,
  familyPython: FamilyPythonOf = () => undefined,
): vscode.TaskProvider {
  function build(
    python: string,
    definition: VinOcrTaskDefinition,
    scope: vscode.WorkspaceFolder | vscode.TaskScope,
    name: string,
  ): vscode.Task {
    const folder = typeof scope === 'object' ? scope.uri.fsPath : (vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd());
    const config = isAbsolute(definition.config) ? definition.config : join(folder, definition.config);
    const task = new vscode.Task(
      definition,
      scope,
      name,
      'vin-ocr',
      cliExecution(cliPath, python, config, definition, folder, familyPython),
      '$vin-ocr-trainer',
    );
    task.group = vscode.TaskGroup.Build;
    return task;
  }

  async function trainingConfigs(): Promise<vscode.Uri[]> {
    const candidates = await vscode.workspace.findFiles('**/*.{yaml,yml}', NOT_CONFIGS_GLOB, 100);
    const configs: vscode.Uri[] = [];
    for (const uri of candidates) {
      const bytes = await vscode.workspace.fs.readFile(uri).then(undefined, () => undefined);
      if (bytes && bytes.byteLength < 512 * 1024 && isTrainingConfigText(new TextDecoder().decode(bytes))) configs.push(uri);
    }
    return configs;
  }

  return {
    async provideTasks() {
      if (!vscode.workspace.isTrusted) return []; // Restricted Mode: no task may start the trainer
      // Listing tasks must not nag: without an interpreter there are simply no tasks to offer.
      const python = await interpreter.find();
      if (!python) return [];
      const tasks: vscode.Task[] = [];
      for (const uri of await trainingConfigs()) {
        const folder = vscode.workspace.getWorkspaceFolder(uri);
        if (!folder) continue;
        const relative = vscode.workspace.asRelativePath(uri, false);
        tasks.push(build(python, { type: 'vin-ocr', config: relative }, folder, `train ${relative}`));
      }
      return tasks;
    },
    async resolveTask(task) {
      const definition = task.definition as VinOcrTaskDefinition;
      if (definition.type !== 'vin-ocr' || typeof definition.config !== 'string' || !vscode.workspace.isTrusted) return undefined;
      const python = await interpreter.require('run the training task');
      return python ? build(python, definition, task.scope ?? vscode.TaskScope.Workspace, task.name) : undefined;
    },
  };
}
