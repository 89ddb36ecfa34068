// Config validation inside a real VS Code extension host: diagnostics in the Problems panel at the right
// lines, a quick fix that edits the file and keeps its comments, completion and hover from the schemas.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';

const EXTENSION_ID = 'vin-ocr.vin-ocr';

function workspaceFile(...parts: string[]): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the integration workspace is open');
  return vscode.Uri.file(path.join(folder.uri.fsPath, ...parts));
}

function configDiagnostics(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((diagnostic) => diagnostic.source === 'vin-ocr');
}

function codeOf(diagnostic: vscode.Diagnostic): string {
  return typeof diagnostic.code === 'object' ? String(diagnostic.code.value) : String(diagnostic.code);
}

/** Polls until `check` holds (diagnostics arrive after a debounce), failing with `what` instead of hanging. */
async function eventually<T>(what: string, check: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('VIN OCR configs (in a real VS Code)', function () {
  this.timeout(60_000);
  const mistakes = workspaceFile('configs', 'models', 'deepseek_mistakes.yaml');

  before(async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `extension ${EXTENSION_ID} is installed`);
    await extension.activate();
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('shows the mistakes of an opened profile in the Problems panel at their lines', async () => {
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(mistakes));
    const diagnostics = await eventually('config diagnostics', () => {
      const found = configDiagnostics(mistakes);
      return found.length >= 6 ? found : undefined;
    });
    const at = (code: string) =>
      diagnostics.filter((diagnostic) => codeOf(diagnostic) === code).map((diagnostic) => diagnostic.range.start.line + 1);
    assert.deepEqual(at('invalid-enum'), [16]);
    assert.deepEqual(at('unknown-key'), [17]);
    assert.deepEqual(at('deepseek-sdpa'), [10]);
    assert.deepEqual(at('vram-order'), [7]);
    const typo = diagnostics.find((diagnostic) => codeOf(diagnostic) === 'invalid-enum')!;
    assert.equal(typo.severity, vscode.DiagnosticSeverity.Error);
    assert.match(typo.message, /did you mean "flash_attention_2"/);
    assert.equal(typo.range.start.character, 23);
    assert.equal(typo.range.end.character, 35);
    const link = typo.code as { value: string; target: vscode.Uri };
    assert.match(link.target.toString(), /docs\/diagnostics\.md#invalid-enum$/);
  });

  it('applies a quick fix: the file is edited, comments stay, the diagnostic goes', async () => {
    // An untitled copy of the fixture, so that nothing (auto-save included) can change the file on disk.
    const fixture = await vscode.workspace.openTextDocument(mistakes);
    const document = await vscode.workspace.openTextDocument({ language: 'yaml', content: fixture.getText() });
    await vscode.window.showTextDocument(document);
    const typo = await eventually('the enum diagnostic', () =>
      configDiagnostics(document.uri).find((diagnostic) => codeOf(diagnostic) === 'invalid-enum'),
    );
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      document.uri,
      typo.range,
      vscode.CodeActionKind.QuickFix.value,
    );
    const fix = actions.find((action) => action.title === 'Change to "flash_attention_2"');
    assert.ok(fix?.edit, `quick fix offered (got: ${actions.map((action) => action.title).join(', ')})`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    assert.equal(document.lineAt(15).text, '  attn_implementation: flash_attention_2  # typo of flash_attention_2');
    assert.equal(document.lineAt(0).text, '# DeepSeek-OCR profile with the mistakes people make (line numbers matter to the tests)');
    await eventually(
      'the fixed diagnostic to disappear',
      () => !configDiagnostics(document.uri).some((diagnostic) => codeOf(diagnostic) === 'invalid-enum') || undefined,
    );
    assert.ok(
      configDiagnostics(document.uri).some((diagnostic) => codeOf(diagnostic) === 'unknown-key'),
      'the other problems remain',
    );
  });

  it('offers "Open the hardware panel" for problems about this machine', async () => {
    const sdpa = await eventually('the sdpa diagnostic', () =>
      configDiagnostics(mistakes).find((diagnostic) => codeOf(diagnostic) === 'deepseek-sdpa'),
    );
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      mistakes,
      sdpa.range,
      vscode.CodeActionKind.QuickFix.value,
    );
    assert.ok(actions.some((action) => action.command?.command === 'vinOcr.showHardware'));
    assert.ok(actions.some((action) => action.title === 'Use flash_attention_2'));
  });

  it('completes the enum values of attn_implementation', async () => {
    const document = await vscode.workspace.openTextDocument({
      language: 'yaml',
      content: 'model_id: LiquidAI/LFM2.5-VL-1.6B\ntraining:\n  attn_implementation: \n',
    });
    const list = await vscode.commands.executeCommand<vscode.CompletionList>(
      'vscode.executeCompletionItemProvider',
      document.uri,
      new vscode.Position(2, 23),
    );
    const labels = list.items.map((item) => (typeof item.label === 'string' ? item.label : item.label.label));
    for (const value of ['auto', 'flash_attention_2', 'sdpa', 'eager'])
      assert.ok(labels.includes(value), `${value} offered (got ${labels.join(', ')})`);
  });

  it('explains a key on hover with the schema description', async () => {
    const document = await vscode.workspace.openTextDocument({
      language: 'yaml',
      content: 'model:\n  type: baseline\ntraining:\n  precision: auto\n',
    });
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      document.uri,
      new vscode.Position(3, 4),
    );
    const text = hovers
      .flatMap((hover) =>
        hover.contents.map((content) => (typeof content === 'string' ? content : 'value' in content ? content.value : '')),
      )
      .join('\n');
    assert.match(text, /\*\*precision\*\*/);
    assert.match(text, /bf16 on compute capability ≥ 8\.0/);
  });

  it('leaves YAML that is no config alone', async () => {
    const document = await vscode.workspace.openTextDocument({ language: 'yaml', content: 'name: CI\non: push\njobs: {}\n' });
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.deepEqual(configDiagnostics(document.uri), []);
  });

  it('refreshes the Configs tree on command', async () => {
    await vscode.commands.executeCommand('vinOcr.configs.refresh');
  });
});
