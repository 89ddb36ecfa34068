// Quick fixes for config diagnostics: the core's edits (enum value, key rename, attention, transformers
// version, recommended VRAM) plus "Open Hardware Panel" for problems about this machine.
import * as vscode from 'vscode';
import { quickFixes } from '../../core/config/fixes';
import type { Problem } from '../../core/config/problem';
import { codeOf, DIAGNOSTIC_SOURCE, toRange, toWorkspaceEdit } from './convert';
import type { ConfigDiagnostics } from './diagnostics';

const HARDWARE_CODES: ReadonlySet<string> = new Set(['attention-unavailable', 'model-does-not-fit', 'deepseek-sdpa']);

export class ConfigCodeActions implements vscode.CodeActionProvider {
  static readonly metadata: vscode.CodeActionProviderMetadata = { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] };

  constructor(private readonly diagnostics: ConfigDiagnostics) {}

  provideCodeActions(document: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const problems = this.diagnostics.problemsFor(document.uri);
    const actions: vscode.CodeAction[] = [];
    for (const diagnostic of context.diagnostics) {
      if (diagnostic.source !== DIAGNOSTIC_SOURCE) continue;
      const code = codeOf(diagnostic);
      const problem = problems.find((candidate) => candidate.code === code && toRange(candidate).isEqual(diagnostic.range));
      if (problem) actions.push(...this.fixesFor(document, problem, diagnostic));
      if (code && HARDWARE_CODES.has(code)) {
        const open = new vscode.CodeAction('Open the hardware panel', vscode.CodeActionKind.QuickFix);
        open.command = { command: 'vinOcr.showHardware', title: 'Open the hardware panel' };
        open.diagnostics = [diagnostic];
        actions.push(open);
      }
    }
    return actions;
  }

  private fixesFor(document: vscode.TextDocument, problem: Problem, diagnostic: vscode.Diagnostic): vscode.CodeAction[] {
    return quickFixes(document.getText(), problem).map((fix) => {
      const action = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
      action.edit = toWorkspaceEdit(document.uri, fix.edits);
      action.diagnostics = [diagnostic];
      action.isPreferred = fix.isPreferred;
      return action;
    });
  }
}
