// Workspace trust for training: in Restricted Mode nothing is spawned, and every command says why.
import * as vscode from 'vscode';

/** True when the workspace is trusted; otherwise explains, offers to manage trust, and returns false. */
export function requireTrust(action: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window
    .showWarningMessage(
      `VIN OCR: ${action} is not available in Restricted Mode: it runs Python code and reads paths from this workspace. ` +
        `Trust the workspace to ${action.toLowerCase()}.`,
      'Manage Workspace Trust',
    )
    .then((choice) => {
      if (choice) void vscode.commands.executeCommand('workbench.trust.manage');
    });
  return false;
}
