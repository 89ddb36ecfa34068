// Human renderings of a doctor report: the CLI's plain-text table and the Markdown report that
// "VIN OCR: Copy Hardware Report" puts on the clipboard for bug reports.
import { formatGb, gbOfBytes, gbOfMib } from './memory';
import type { DoctorReport, GpuFacts, HardwareFacts } from './types';

export interface InterpreterNote {
  path: string;
  source: string;
  reason: string;
}

function gpuLine(gpu: GpuFacts): string {
  const parts = [gpu.name];
  parts.push(gpu.vram_mib == null ? 'shared memory' : `${formatGb(gbOfMib(gpu.vram_mib))} VRAM (${gpu.vram_mib} MiB)`);
  if (gpu.compute_capability) parts.push(`compute capability ${gpu.compute_capability}`);
  return parts.join(' · ');
}

function ramLine(facts: HardwareFacts): string {
  return `${formatGb(gbOfBytes(facts.ram_bytes))} (${(facts.ram_bytes / 1024 ** 3).toFixed(1)} GiB)`;
}

function driverLine(facts: HardwareFacts): string | undefined {
  if (!facts.nvidia_driver && !facts.cuda_driver_version) return undefined;
  return [
    facts.nvidia_driver ? `NVIDIA ${facts.nvidia_driver}` : undefined,
    facts.cuda_driver_version ? `CUDA ${facts.cuda_driver_version}` : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
}

function pythonLine(facts: HardwareFacts): string {
  const python = facts.python;
  if (!python) return 'not checked (no interpreter found, or the probe failed)';
  const torch = python.torch ? `torch ${python.torch}` : python.torch_error ? `torch broken (${python.torch_error})` : 'no torch';
  const flash = python.flash_attn === 'stub' ? 'flash-attn stub' : python.flash_attn ? `flash-attn ${python.flash_attn}` : 'no flash-attn';
  const cuda = `CUDA ${python.cuda_available ? 'yes' : 'no'}`;
  const mps = `MPS ${python.mps_available ? 'yes' : 'no'}`;
  return `${python.path} (Python ${python.version}) · ${torch} · ${cuda} · ${mps} · ${flash}`;
}

function machineRows(facts: HardwareFacts): Array<[string, string]> {
  const rows: Array<[string, string]> = [
    ['OS', `${facts.os} ${facts.arch}`],
    ['CPU', `${facts.cpu.brand} (${facts.cpu.cores} cores)`],
    ['RAM', ramLine(facts)],
  ];
  if (facts.gpus.length === 0) rows.push(['GPU', 'none found']);
  facts.gpus.forEach((gpu, index) => rows.push([facts.gpus.length > 1 ? `GPU ${index}` : 'GPU', gpuLine(gpu)]));
  const driver = driverLine(facts);
  if (driver) rows.push(['Driver', driver]);
  rows.push(['Python', pythonLine(facts)]);
  return rows;
}

function padTable(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd(),
  );
}

/** The families' own environments the doctor found: interpreter and transformers. */
function environmentLines(report: DoctorReport): string[] {
  const entries = Object.entries(report.environments ?? {});
  if (entries.length === 0) return [];
  const rows = entries.map(([family, environment]) => {
    const transformers = environment.error
      ? `does not run (${environment.error})`
      : environment.transformers
        ? `transformers ${environment.transformers}${environment.usable ? '' : ' (its code cannot import with this)'}`
        : 'no transformers';
    return [`  ${family}`, environment.python, transformers];
  });
  return ['', 'Model environments', ...padTable(rows)];
}

/** The `vin-ocr doctor` table: machine, chosen setup with reasons, model fit, warnings with fixes. */
export function formatDoctorText(facts: HardwareFacts, report: DoctorReport): string {
  const lines: string[] = ['Machine'];
  lines.push(...padTable(machineRows(facts).map(([key, value]) => [`  ${key}`, value])));
  lines.push('', 'Training setup');
  const setup: Array<[string, string, string | undefined]> = [
    ['Platform', report.platform, report.explanations?.platform],
    ['Attention', report.attention, report.explanations?.attention],
  ];
  if (report.precision) setup.push(['Precision', report.precision, report.explanations?.precision]);
  lines.push(...padTable(setup.map(([key, value, why]) => [`  ${key}`, value, why ?? ''])));
  lines.push('', 'Models');
  const modelRows = [['  MODEL', 'FIT', 'PLATFORM', 'ATTENTION']];
  for (const [model, verdict] of Object.entries(report.models))
    modelRows.push([`  ${model}`, verdict.fit, verdict.platform, verdict.attention]);
  lines.push(...padTable(modelRows));
  for (const [model, verdict] of Object.entries(report.models)) {
    if (verdict.fit === 'insufficient' && verdict.cloud && verdict.cloud.length > 0) {
      lines.push(`  ${model} would fit on: ${verdict.cloud.map((entry) => `${entry.label} (${entry.fit})`).join(', ')}`);
    }
  }
  lines.push(...environmentLines(report));
  lines.push('', report.warnings.length === 0 ? 'No warnings.' : 'Warnings');
  for (const warning of report.warnings) lines.push(`  [${warning.code}] ${warning.message}`, `      fix: ${warning.fix}`);
  return `${lines.join('\n')}\n`;
}

function escapeCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** The Markdown report for bug reports and chats: everything the text table says, plus per-model reasons. */
export function formatMarkdownReport(facts: HardwareFacts, report: DoctorReport, interpreter?: InterpreterNote): string {
  const lines: string[] = ['## VIN OCR hardware report', '', '| | |', '|---|---|'];
  for (const [key, value] of machineRows(facts)) lines.push(`| ${key} | ${escapeCell(value)} |`);
  if (interpreter) lines.push(`| Interpreter | ${escapeCell(`${interpreter.path} — ${interpreter.source}: ${interpreter.reason}`)} |`);
  lines.push('', '### Training setup', '', '| | Choice | Why |', '|---|---|---|');
  lines.push(`| Platform | \`${report.platform}\` | ${escapeCell(report.explanations?.platform ?? '')} |`);
  lines.push(`| Attention | \`${report.attention}\` | ${escapeCell(report.explanations?.attention ?? '')} |`);
  if (report.precision) lines.push(`| Precision | \`${report.precision}\` | ${escapeCell(report.explanations?.precision ?? '')} |`);
  lines.push('', '### Models', '', '| Model | Fit | Platform | Attention | Reasons |', '|---|---|---|---|---|');
  for (const [model, verdict] of Object.entries(report.models)) {
    lines.push(
      `| ${escapeCell(model)} | ${verdict.fit} | ${verdict.platform} | ${verdict.attention} | ${escapeCell(verdict.reasons.join(' '))} |`,
    );
  }
  lines.push('', '### Warnings', '');
  if (report.warnings.length === 0) lines.push('None.');
  for (const warning of report.warnings) lines.push(`- **${warning.code}**: ${warning.message}  `, `  Fix: ${warning.fix}`);
  lines.push('', '<details><summary>Facts (JSON)</summary>', '', '```json', JSON.stringify(facts, null, 2), '```', '', '</details>');
  return `${lines.join('\n')}\n`;
}
