// Completion of keys and enum values, and hover with the schema's descriptions, for config files.
import * as vscode from 'vscode';
import { completionsAt, hoverAt } from '../../core/config/assist';
import { readConfigSettings } from './settings';

function assistOptions(document: vscode.TextDocument): { file: string; patterns: Record<string, string> } | undefined {
  const settings = readConfigSettings(document.uri);
  if (!settings.enabled) return undefined;
  return { file: document.uri.scheme === 'file' ? document.uri.fsPath : document.uri.path, patterns: settings.patterns };
}

export class ConfigCompletions implements vscode.CompletionItemProvider {
  provideCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    _token: vscode.CancellationToken,
    context: vscode.CompletionContext,
  ): vscode.CompletionItem[] {
    const options = assistOptions(document);
    if (!options) return [];
    const items = completionsAt(document.getText(), document.offsetAt(position), options);
    // A typed space only completes values ("key: |"); indenting a new line must not pop up the key list.
    const wanted =
      context.triggerKind === vscode.CompletionTriggerKind.TriggerCharacter && context.triggerCharacter === ' '
        ? items.filter((item) => item.kind === 'value')
        : items;
    return wanted.map((item, index) => {
      const completion = new vscode.CompletionItem(
        item.label,
        item.kind === 'key' ? vscode.CompletionItemKind.Property : vscode.CompletionItemKind.EnumMember,
      );
      completion.insertText = item.insertText;
      completion.range = new vscode.Range(document.positionAt(item.replaceStart), document.positionAt(item.replaceEnd));
      completion.detail = item.detail;
      if (item.documentation) completion.documentation = new vscode.MarkdownString(item.documentation);
      completion.sortText = String(index).padStart(4, '0'); // schema order: most important keys first
      return completion;
    });
  }
}

export class ConfigHover implements vscode.HoverProvider {
  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const options = assistOptions(document);
    if (!options) return undefined;
    const hover = hoverAt(document.getText(), document.offsetAt(position), options);
    if (!hover) return undefined;
    return new vscode.Hover(
      new vscode.MarkdownString(hover.markdown),
      new vscode.Range(document.positionAt(hover.start), document.positionAt(hover.end)),
    );
  }
}
