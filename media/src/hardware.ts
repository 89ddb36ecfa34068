// Hardware panel front-end. Draws the PanelModel the host sends; all data goes in through textContent
// (never innerHTML), so nothing from the machine or the workspace can become markup or script.
import { el, type Child } from './dom';
import {
  THIS_MACHINE,
  type HostMessage,
  type ModelView,
  type PanelModel,
  type TroubleshootingView,
  type WebviewMessage,
  type WebviewState,
} from './protocol';
import { acquireTypedVsCodeApi } from './vscode-api';

const vscode = acquireTypedVsCodeApi<WebviewMessage, WebviewState>();
const app = document.getElementById('app') as HTMLElement;
let state: WebviewState = vscode.getState() ?? { targetId: THIS_MACHINE, model: null };
let probing = false;

// ---------- layout helpers (text only, via el) ----------

function section(title: string, id: string, ...children: Child[]): HTMLElement {
  return el('section', { 'aria-labelledby': id }, el('h2', { id }, title), ...children);
}

function definitionList(rows: [string, Child][]): HTMLElement {
  const list = el('dl', { class: 'facts' });
  for (const [term, value] of rows) list.append(el('dt', {}, term), el('dd', {}, value ?? '—'));
  return list;
}

function copyButton(text: string, label: string): HTMLButtonElement {
  const button = el('button', { type: 'button', class: 'copy', 'aria-label': `Copy ${label}`, title: `Copy ${label}` }, 'Copy');
  button.addEventListener('click', () => vscode.postMessage({ type: 'copy', text }));
  return button;
}

function commandBlock(command: string): HTMLElement {
  return el('div', { class: 'command' }, el('pre', {}, el('code', {}, command)), copyButton(command, `command: ${command}`));
}

const FIT_LABEL = { optimal: '✓ Optimal', minimum: '● Minimum', insufficient: '✗ Does not fit' } as const;

function fitBadge(fit: ModelView['fit']): HTMLElement {
  return el('span', { class: `fit fit-${fit}` }, FIT_LABEL[fit]);
}

// ---------- sections ----------

function header(model: PanelModel | null): HTMLElement {
  const select = el('select', { id: 'target', 'aria-label': 'Check against' });
  for (const target of model?.targets ?? [{ id: THIS_MACHINE, label: 'This machine' }]) {
    const option = el('option', { value: target.id }, target.label);
    option.selected = target.id === state.targetId;
    select.append(option);
  }
  select.addEventListener('change', () => {
    state = { ...state, targetId: select.value };
    vscode.setState(state);
    vscode.postMessage({ type: 'checkAgainst', targetId: select.value });
  });
  const refresh = el('button', { type: 'button', id: 'refresh' }, probing ? 'Probing…' : 'Refresh');
  refresh.disabled = probing;
  refresh.addEventListener('click', () => vscode.postMessage({ type: 'refresh' }));
  const report = el('button', { type: 'button', id: 'copy-report' }, 'Copy report');
  report.addEventListener('click', () => vscode.postMessage({ type: 'copyReport' }));
  return el(
    'header',
    {},
    el('h1', {}, 'VIN OCR: Hardware'),
    el('div', { class: 'toolbar' }, el('label', { for: 'target' }, 'Check against: '), select, refresh, report),
    el(
      'p',
      { class: 'muted', role: 'status' },
      probing ? 'Probing this machine…' : model?.collectedAt ? `Probed ${new Date(model.collectedAt).toLocaleString()}` : '',
    ),
  );
}

function decisions(model: PanelModel): HTMLElement {
  const rows: [string, Child][] = [
    ['Platform', el('span', {}, el('strong', {}, model.platform.value), model.platform.reason ? ` — ${model.platform.reason}` : '')],
    ['Attention', el('span', {}, el('strong', {}, model.attention.value), model.attention.reason ? ` — ${model.attention.reason}` : '')],
  ];
  if (model.precision)
    rows.push([
      'Precision',
      el('span', {}, el('strong', {}, model.precision.value), model.precision.reason ? ` — ${model.precision.reason}` : ''),
    ]);
  return section('Training will use', 'decisions', definitionList(rows));
}

function machine(model: PanelModel): HTMLElement {
  const { machine: facts } = model;
  const rows: [string, Child][] = [
    ['System', `${facts.os} ${facts.arch}`],
    ['CPU', `${facts.cpu} (${facts.cores} cores)`],
    ['RAM', `${facts.ramGb} GB`],
  ];
  if (facts.gpus.length === 0) rows.push(['GPU', 'none found']);
  facts.gpus.forEach((gpu, index) => {
    const details = [
      gpu.vramGb !== null ? `${gpu.vramGb} GB` : 'VRAM unknown',
      gpu.computeCapability ? `compute capability ${gpu.computeCapability}` : null,
    ]
      .filter(Boolean)
      .join(', ');
    rows.push([facts.gpus.length > 1 ? `GPU ${index}` : 'GPU', `${gpu.name} (${details})`]);
  });
  if (facts.nvidiaDriver) rows.push(['NVIDIA driver', facts.nvidiaDriver]);
  if (facts.cudaDriverVersion) rows.push(['CUDA (driver)', facts.cudaDriverVersion]);
  return section(model.hypothetical ? 'Machine (hypothetical)' : 'Machine', 'machine', definitionList(rows));
}

function python(model: PanelModel): HTMLElement {
  if (model.hypothetical) {
    return section(
      'Python environment',
      'python',
      el('p', { class: 'muted' }, 'A hypothetical machine: judged from its hardware alone, as if the right torch build were installed.'),
    );
  }
  const { interpreter, probe } = model.python;
  const rows: [string, Child][] = [
    ['Interpreter', interpreter ? el('code', {}, interpreter.path) : 'none found — set vinOcr.pythonPath'],
    ['Chosen because', interpreter ? interpreter.reason : null],
  ];
  if (probe) {
    rows.push(
      ['Python', probe.version],
      [
        'torch',
        probe.torch
          ? `${probe.torch}${probe.torchCuda ? ` (CUDA ${probe.torchCuda})` : ''}`
          : probe.torchError
            ? `broken: ${probe.torchError}`
            : 'not installed',
      ],
      ['CUDA available to torch', probe.cudaAvailable ? 'yes' : 'no'],
      ['MPS available to torch', probe.mpsAvailable ? 'yes' : 'no'],
      [
        'flash-attn',
        probe.flashAttn === 'stub' ? 'stub (lets code import flash_attn; not real flash attention)' : (probe.flashAttn ?? 'not installed'),
      ],
    );
  } else if (interpreter) {
    rows.push(['Probe', 'did not run or failed: judged from the hardware alone']);
  }
  return section('Python environment', 'python', definitionList(rows));
}

function warnings(model: PanelModel): HTMLElement | null {
  if (model.warnings.length === 0) return null;
  return section(
    'Warnings',
    'warnings',
    el(
      'ul',
      { class: 'warnings' },
      ...model.warnings.map((warning) => el('li', {}, el('strong', {}, warning.message), el('br'), `Fix: ${warning.fix}`)),
    ),
  );
}

function modelTable(model: PanelModel): HTMLElement {
  const body = el('tbody');
  for (const entry of model.models) {
    body.append(
      el(
        'tr',
        {},
        el('th', { scope: 'row' }, entry.id),
        el('td', {}, fitBadge(entry.fit)),
        el('td', {}, entry.platform),
        el('td', {}, entry.attention),
        el('td', {}, el('ul', { class: 'reasons' }, ...entry.reasons.map((reason) => el('li', {}, reason)))),
      ),
    );
  }
  const head = el(
    'thead',
    {},
    el('tr', {}, ...['Model', 'Fit', 'Platform', 'Attention', 'Why'].map((title) => el('th', { scope: 'col' }, title))),
  );
  return section('Models', 'models', el('table', { class: 'models' }, head, body));
}

function installs(model: PanelModel): HTMLElement {
  return section(
    'Install commands',
    'install',
    el(
      'p',
      { class: 'muted' },
      'One environment per model family: DeepSeek-OCR pins transformers 4.46.3, LFM2.5-VL needs 4.57 or newer, ' +
        "PaddleOCR's PaddlePaddle stays out of the torch environment (VIN OCR: Set Up PaddleOCR Environment).",
    ),
    ...model.models.map((entry) =>
      el(
        'div',
        { class: 'install' },
        el('h3', {}, `${entry.id} on ${entry.platform}`),
        entry.installCommands.length > 0
          ? el('div', {}, ...entry.installCommands.map(commandBlock))
          : el('p', { class: 'muted' }, 'Nothing to install beyond the trainer.'),
      ),
    ),
  );
}

function trainOnCloudButton(instanceId: string): HTMLButtonElement {
  const label = `Train on ${instanceId}…`;
  const button = el(
    'button',
    { type: 'button', class: 'copy', 'aria-label': label, title: 'VIN OCR: Train on Cloud… with this instance' },
    'Train on cloud…',
  );
  button.addEventListener('click', () => vscode.postMessage({ type: 'trainOnCloud', instanceId }));
  return button;
}

function cloud(model: PanelModel): HTMLElement | null {
  const missing = model.models.filter((entry) => entry.fit === 'insufficient');
  if (missing.length === 0) return null;
  return section(
    'Cloud machines that would fit',
    'cloud',
    ...missing.map((entry) =>
      el(
        'div',
        {},
        el('h3', {}, entry.id),
        entry.cloudSuggestions.length > 0
          ? el(
              'ul',
              {},
              ...entry.cloudSuggestions.map((suggestion) => el('li', {}, suggestion.text, ' ', trainOnCloudButton(suggestion.instanceId))),
            )
          : el('p', { class: 'muted' }, 'None of the listed cloud instances fits this model.'),
      ),
    ),
  );
}

function troubleshootingItem(item: TroubleshootingView): HTMLElement {
  return el('div', { class: 'trouble' }, el('h3', {}, item.title), el('p', {}, item.body), ...item.commands.map(commandBlock));
}

function troubleshooting(model: PanelModel): HTMLElement {
  const relevant = model.troubleshooting.filter((item) => item.relevant);
  const others = model.troubleshooting.filter((item) => !item.relevant);
  return section(
    'Troubleshooting',
    'troubleshooting',
    relevant.length > 0
      ? el('div', {}, ...relevant.map(troubleshootingItem))
      : el('p', { class: 'muted' }, 'No known problem applies to this machine.'),
    others.length > 0 && el('details', {}, el('summary', {}, 'Other known problems'), ...others.map(troubleshootingItem)),
  );
}

// ---------- drawing ----------

function draw(): void {
  const model = state.model;
  const content: Child[] = [header(model)];
  if (!model) {
    content.push(el('p', { class: 'muted' }, probing ? 'Probing hardware…' : 'No hardware facts yet.'));
  } else {
    if (model.hypothetical) {
      const targetLabel = model.targets.find((target) => target.id === model.targetId)?.label ?? model.targetId;
      content.push(el('p', { class: 'banner', role: 'note' }, `Checking against ${targetLabel}: a hypothetical machine.`));
    }
    content.push(
      decisions(model),
      warnings(model),
      modelTable(model),
      machine(model),
      python(model),
      cloud(model),
      installs(model),
      troubleshooting(model),
    );
  }
  // Keep keyboard focus on the control the person was using across redraws.
  const focusedId = document.activeElement instanceof HTMLElement ? document.activeElement.id : '';
  app.replaceChildren(...content.filter((child): child is Node => child instanceof Node));
  app.setAttribute('aria-busy', String(probing && !model));
  if (focusedId) document.getElementById(focusedId)?.focus();
}

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const message = event.data;
  switch (message.type) {
    case 'render':
      state = { targetId: message.model.targetId, model: message.model };
      vscode.setState(state);
      draw();
      vscode.postMessage({
        type: 'rendered',
        targetId: message.model.targetId,
        platform: message.model.platform.value,
        modelCount: message.model.models.length,
      });
      break;
    case 'probing':
      if (probing !== message.probing) {
        probing = message.probing;
        draw();
      }
      break;
    case 'error':
      app.prepend(el('p', { class: 'error', role: 'alert' }, message.message));
      break;
  }
});

draw();
vscode.postMessage({ type: 'ready', targetId: state.targetId });
