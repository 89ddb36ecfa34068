// Config features: live diagnostics, quick fixes, completion, hover and the "Configs" tree.
// Everything here is a thin adapter over src/core/config, which the CLI shares.
import * as vscode from 'vscode';
import type { HardwareState } from '../hardware/state';
import { ConfigCompletions, ConfigHover } from './assistProviders';
import { ConfigCodeActions } from './codeActions';
import { ConfigsTreeProvider } from './configsTree';
import { ConfigDiagnostics } from './diagnostics';

const YAML: vscode.DocumentSelector = [
  { language: 'yaml', scheme: 'file' },
  { language: 'yaml', scheme: 'untitled' },
];

export function registerConfigFeatures(context: vscode.ExtensionContext, hardware: HardwareState): void {
  // Each diagnostic code links to its section of the bundled docs/diagnostics.md.
  const explain = (code: string) => vscode.Uri.joinPath(context.extensionUri, 'docs', 'diagnostics.md').with({ fragment: code });
  const diagnostics = new ConfigDiagnostics(hardware, explain);
  const tree = new ConfigsTreeProvider(diagnostics, hardware);
  context.subscriptions.push(
    diagnostics,
    tree,
    vscode.window.registerTreeDataProvider('vinOcr.configs', tree),
    vscode.languages.registerCodeActionsProvider(YAML, new ConfigCodeActions(diagnostics), ConfigCodeActions.metadata),
    vscode.languages.registerCompletionItemProvider(YAML, new ConfigCompletions(), ' '),
    vscode.languages.registerHoverProvider(YAML, new ConfigHover()),
    vscode.commands.registerCommand('vinOcr.configs.refresh', () => {
      diagnostics.validateAll();
      tree.refresh();
    }),
  );
}
