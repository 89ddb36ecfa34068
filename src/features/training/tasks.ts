// The `vin-ocr` task type: training from tasks.json, with the `$vin-ocr-trainer` problem matcher.
// Tasks run the trainer directly (ProcessExecution: arguments as an array, no shell).
import { isAbsolute, join } from 'node:path';
import * as vscode from 'vscode';
import { trainerEnvironment } from '../../core/trainer/launch';
import { trainArgs, type DeviceChoice } from '../../core/trainer/trainer-args';
import { isTrainingConfigText } from '../../core/trainer/training-config';
import type { TrainerInterpreter } from './interpreter';

interface VinOcrTaskDefinition extends vscode.TaskDefinition {
  type: 'vin-ocr';
  config: string;
  command?: 'train';
  resume?: string;
  device?: DeviceChoice;
}

export function createTaskProvider(interpreter: TrainerInterpreter, trainerDir: string): vscode.TaskProvider {
  function build(python: string, definition: VinOcrTaskDefinition, scope: vscode.WorkspaceFolder | vscode.TaskScope, name: string): vscode.Task {
    const folder = typeof scope === 'object' ? scope.uri.fsPath : vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? process.cwd();
    const config = isAbsolute(definition.config) ? definition.config : join(folder, definition.config);
    const args = ['-m', 'vin_ocr', ...trainArgs(config, { resumeFrom: definition.resume, device: definition.device })].filter((arg, index, all) => !(arg === '--events' || all[index - 1] === '--events'));
    const env = trainerEnvironment({}, trainerDir, process.platform);
    const execution = new vscode.ProcessExecution(python, args, { cwd: folder, env: Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string')) });
    const task = new vscode.Task(definition, scope, name, 'vin-ocr', execution, '$vin-ocr-trainer');
    task.group = vscode.TaskGroup.Build;
    return task;
  }

  return {
    async provideTasks() {
      if (!vscode.workspace.isTrusted) return []; // Restricted Mode: no task may start the trainer
      // Listing tasks must not nag: without an interpreter there are simply no tasks to offer.
      const python = await interpreter.find();
      if (!python) return [];
      const candidates = await vscode.workspace.findFiles('**/*.{yaml,yml}', '{**/node_modules/**,**/.venv/**,**/runs/**}', 100);
      const configs: vscode.Uri[] = [];
      for (const uri of candidates) {
        const bytes = await vscode.workspace.fs.readFile(uri).then(undefined, () => undefined);
        if (bytes && bytes.byteLength < 512 * 1024 && isTrainingConfigText(new TextDecoder().decode(bytes))) configs.push(uri);
      }
      const tasks: vscode.Task[] = [];
      for (const uri of configs) {
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
