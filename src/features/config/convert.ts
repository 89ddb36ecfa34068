// Core problems and edits (1-based) ↔ VS Code diagnostics and ranges (0-based).
import * as vscode from 'vscode';
import type { TextEdit } from '../../core/config/fixes';
import type { Problem } from '../../core/config/problem';

export const DIAGNOSTIC_SOURCE = 'vin-ocr';

const SEVERITY: Record<Problem['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

export function toRange(place: { line: number; column: number; endLine: number; endColumn: number }): vscode.Range {
  return new vscode.Range(place.line - 1, place.column - 1, place.endLine - 1, place.endColumn - 1);
}

/** `explain` links each code to its section of docs/diagnostics.md. */
export function toDiagnostic(problem: Problem, explain: (code: string) => vscode.Uri): vscode.Diagnostic {
  const diagnostic = new vscode.Diagnostic(toRange(problem), problem.message, SEVERITY[problem.severity]);
  diagnostic.source = DIAGNOSTIC_SOURCE;
  diagnostic.code = { value: problem.code, target: explain(problem.code) };
  return diagnostic;
}

export function toWorkspaceEdit(uri: vscode.Uri, edits: readonly TextEdit[]): vscode.WorkspaceEdit {
  const workspaceEdit = new vscode.WorkspaceEdit();
  for (const edit of edits) workspaceEdit.replace(uri, toRange(edit), edit.newText);
  return workspaceEdit;
}

export function codeOf(diagnostic: vscode.Diagnostic): string | undefined {
  const code = diagnostic.code;
  if (typeof code === 'object' && code !== null) return String(code.value);
  return code === undefined ? undefined : String(code);
}
