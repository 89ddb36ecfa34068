// "Train" and "Train on Cloud…" CodeLenses at the top of training configs, and the context key that shows the
// editor-title Train button only on them.
import * as vscode from 'vscode';
import { isTrainingConfigText } from '../../core/trainer/training-config';

const SELECTOR: vscode.DocumentSelector = [{ language: 'yaml', scheme: 'file' }];

export function registerConfigLens(): vscode.Disposable[] {
  const updateContext = (editor: vscode.TextEditor | undefined) => {
    const document = editor?.document;
    const isConfig = !!document && /\.ya?ml$/i.test(document.uri.path) && isTrainingConfigText(document.getText());
    void vscode.commands.executeCommand('setContext', 'vinOcr.activeEditorIsTrainingConfig', isConfig);
  };
  updateContext(vscode.window.activeTextEditor);
  let pending: ReturnType<typeof setTimeout> | undefined;
  return [
    vscode.window.onDidChangeActiveTextEditor(updateContext),
    vscode.workspace.onDidSaveTextDocument((document) => {
      if (document === vscode.window.activeTextEditor?.document) updateContext(vscode.window.activeTextEditor);
    }),
    vscode.workspace.onDidChangeTextDocument((event) => {
      if (event.document !== vscode.window.activeTextEditor?.document) return;
      if (pending) clearTimeout(pending);
      pending = setTimeout(() => updateContext(vscode.window.activeTextEditor), 500);
    }),
    { dispose: () => pending && clearTimeout(pending) },
    vscode.languages.registerCodeLensProvider(SELECTOR, {
      provideCodeLenses(document) {
        if (!isTrainingConfigText(document.getText())) return [];
        const top = new vscode.Range(0, 0, 0, 0);
        return [
          new vscode.CodeLens(top, {
            title: '$(play) Train',
            command: 'vinOcr.train',
            arguments: [document.uri],
            tooltip: 'Train a model with this config',
          }),
          new vscode.CodeLens(top, {
            title: '$(cloud-upload) Train on Cloud…',
            command: 'vinOcr.trainOnCloud',
            arguments: [document.uri],
            tooltip: 'Train with this config on a cloud GPU instance (SkyPilot)',
          }),
          new vscode.CodeLens(top, { title: 'Runs', command: 'vinOcr.runs.focus', tooltip: 'Show training runs' }),
        ];
      },
    }),
  ];
}
