import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { parseSimpleYaml } from '../../../src/core/config/fast-yaml';
import { documentLocator, spanTableLocator, type DataPath } from '../../../src/core/config/nodes';
import { validateText } from '../../../src/core/config/validate';
import type { HardwareFacts } from '../../../src/core/hardware/types';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? yamlFiles(path) : /\.ya?ml$/.test(name) ? [path] : [];
  });
}

function pathsOf(data: unknown, prefix: Array<string | number> = []): DataPath[] {
  const paths: DataPath[] = [prefix];
  if (Array.isArray(data)) data.forEach((item, index) => paths.push(...pathsOf(item, [...prefix, index])));
  else if (typeof data === 'object' && data !== null)
    for (const [key, value] of Object.entries(data)) paths.push(...pathsOf(value, [...prefix, key]));
  return paths;
}

/** The fast path must read a text exactly as the `yaml` package does: same data, same span for every key and value. */
function assertSameAsYaml(text: string, label: string): void {
  const fast = parseSimpleYaml(text);
  assert.ok(fast, `${label}: expected the fast path to accept it`);
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: false, merge: true });
  assert.deepEqual(doc.errors, [], `${label}: fixture must be valid YAML`);
  const expected = doc.toJS();
  assert.deepEqual(fast.data, expected, `${label}: data`);
  const slow = documentLocator(doc);
  const quick = spanTableLocator(fast.spans);
  for (const path of pathsOf(expected)) {
    for (const prefer of ['key', 'value'] as const) {
      assert.deepEqual(quick.span(path, prefer), slow.span(path, prefer), `${label}: ${prefer} span of /${path.join('/')}`);
    }
  }
}

const SNIPPETS: Record<string, string> = {
  'scalars of every core type':
    'a: 1\nb: -2\nc: 0o17\nd: 0x1F\ne: 1.5\nf: .5\ng: 1e3\nh: -.inf\ni: .nan\nj: true\nk: FALSE\nl: null\nm: ~\nn:\no: yes\n' +
    'p: 1.2.3\nq: 123456789012345678901234567890\n',
  'quoted strings and comments':
    'a: "x # not a comment"  # comment\nb: \'it\'\'s\'\nc: "tab\\tand \\u00e9"\nd: plain # comment\ne: a#b\n' +
    'f: "  padded  "\n"quoted key": 1\n\'single key\': 2\n',
  'nested maps and sequences': 'm:\n  a: 1\n  b:\n    c: [x]\n'.replace(' [x]', '\n      - x\n      - y'),
  'sequences at the parent indent': 's:\n- a\n- b: 1\n  c: 2\nt: end\n',
  'maps inside sequences': 'list:\n  - platform: cuda\n    attn_implementation: eager   \n    notes: "x"\n  - platform: cpu\n',
  'blank lines and comments everywhere': '# head\n\nm:\n  # inside\n  a: 1\n\n  b: 2\n\n# tail\n',
  'CRLF line endings': 'a: 1\r\nb:\r\n  c: "x"\r\n  d:\r\n    - e\r\n',
  'no final newline': 'a:\n  b: 1',
  'empty values with comments': 'a:   # nothing\nb: \nc:\n',
  'a root sequence': '- a\n- b\n- c: 1\n',
  'values with colons and dashes': 'url: http://example.com:8080/x\nrange: 1-2\nneg: -x\ntime: 12:30\n',
  'spaces before the colon and odd key characters': 'a  : 1\nmodel.type: x\nsome/path: y\nkebab-key: z\n',
  'trailing tabs and comments right after the colon': 'a: x\t\nb: #c\nc: "" # empty\nd: \'#\'\n',
  'extra spaces after the dash': 'l:\n  -   a: 1\n      b: 2\n  -    plain\n',
  'sequences inside sequence items': '- a: 1\n  b:\n    - x\n    - y: 2\n      z: 3\n- c\n',
  'empty values closing nested blocks': 'a:\n  b:\n  c:\n    d:\ne: 1\n',
  'CRLF with comments and blank lines': 'a: 1 # one\r\n\r\nb:\r\n  # inside\r\n  - x # ex\r\n\r\n',
  'tabs after the separating space': 'a: \t1\nb: \tx\nc:\n  - \tz\n',
  'comments before a nested block': 'm:\n  # about a\n  a: 1\n  # same indent, after\nn: 2\n',
};

describe('fast YAML path', () => {
  for (const file of yamlFiles('test/fixtures')) {
    const text = readFileSync(file, 'utf8');
    if (!parseSimpleYaml(text)) continue; // files with flow collections etc. take the full parser
    it(`reads ${file} exactly as yaml does`, () => assertSameAsYaml(text, file));
  }

  it('takes every model profile of the existing project (the common case is the fast one)', () => {
    for (const file of yamlFiles('test/fixtures/configs/existing/configs/models'))
      assert.ok(parseSimpleYaml(readFileSync(file, 'utf8')), file);
  });

  for (const [name, text] of Object.entries(SNIPPETS)) {
    it(`reads ${name} exactly as yaml does`, () => assertSameAsYaml(text, name));
  }

  const declined: Record<string, string> = {
    'flow collections': 'a: [1, 2]\n',
    'flow mappings': 'a: { b: 1 }\n',
    anchors: 'a: &x 1\nb: *x\n',
    tags: 'a: !include x.yaml\n',
    'block scalars': 'a: |\n  text\n',
    'multi-line plain scalars': 'a: one\n  two\n',
    'multi-line quoted scalars': 'a: "one\n  two"\n',
    'duplicate keys': 'a: 1\na: 2\n',
    'merge keys': 'a: 1\n<<: {}\n',
    'several documents': 'a: 1\n---\nb: 2\n',
    'tabs in indentation': 'a:\n\tb: 1\n',
    'a BOM': '\uFEFFa: 1\n',
    'numeric keys': '1: a\n',
    'YAML-only escapes': 'a: "\\x41"\n',
    'a value that is also a key': 'a: b: c\n',
    'a scalar root': 'just text\n',
    'only comments': '# nothing\n',
    'bad dedent': 'a:\n    b: 1\n  c: 2\n',
    '"-" alone on a line': 'a:\n  -\n    b: 1\n',
    'compact nested sequences': '- - a\n',
    'a carriage return that ends no line': 'a: 1\nb: false\r',
    'comments indented deeper than the entry before them': 'm:\n  a: 1\n    # deeper\nb: 1\n',
    'an empty value with a comment before a blank line': 'm:\n  a: # c\n\nb: 1\n',
  };
  for (const [name, text] of Object.entries(declined)) {
    it(`leaves ${name} to the full parser`, () => assert.equal(parseSimpleYaml(text), undefined));
  }
});

describe('fast YAML path under random edits', () => {
  // Mutated configs: whatever the fast path accepts must be valid YAML that `yaml` reads identically.
  it('agrees with yaml on every mutation it accepts', () => {
    const seeds = [
      'test/fixtures/configs/existing/configs/models/deepseek_ocr.yaml',
      'test/fixtures/configs/existing/configs/models/liquidai.yaml',
      'test/fixtures/configs/training/baseline.yaml',
    ]
      .map((file) => readFileSync(file, 'utf8'))
      .flatMap((text) => [text, text.replace(/\n/g, '\r\n')]);
    const pieces = [
      ' ',
      ':',
      '-',
      '#',
      '"',
      "'",
      '\n',
      'a',
      '1',
      '  ',
      ': ',
      '- ',
      '\t',
      '\\',
      '.',
      '~',
      '{',
      '[',
      '|',
      '>',
      '&',
      '*',
      '!',
      '?',
      ',',
      '\r\n',
      'true',
      'null',
      '0x1',
      '.5',
      '1e3',
    ];
    let state = 20261128;
    const random = (below: number) => {
      state = (state * 1103515245 + 12345) & 0x7fffffff;
      return state % below;
    };
    let accepted = 0;
    for (let round = 0; round < 1500; round++) {
      let text = seeds[random(seeds.length)]!;
      for (let edit = 0, edits = 1 + random(3); edit < edits; edit++) {
        const at = random(text.length + 1);
        text =
          random(3) === 0
            ? text.slice(0, at) + text.slice(at + 1 + random(3))
            : text.slice(0, at) + pieces[random(pieces.length)] + text.slice(at);
      }
      if (!parseSimpleYaml(text)) continue;
      accepted += 1;
      const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: false, merge: true });
      assert.deepEqual(
        [...doc.errors, ...doc.warnings].map((error) => error.message),
        [],
        `accepted invalid YAML: ${JSON.stringify(text)}`,
      );
      assertSameAsYaml(text, `mutation ${round}`);
    }
    assert.ok(accepted > 300, `only ${accepted} mutations took the fast path`);
  });
});

describe('validation through the fast path', () => {
  const files = yamlFiles('test/fixtures');
  const facts = JSON.parse(readFileSync('test/fixtures/configs/facts/t4-linux.json', 'utf8')) as HardwareFacts;
  it('reports exactly what the full parser reports, for every fixture', () => {
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      const options = { file, facts, workspaceRoot: process.cwd(), fileExists: existsSync, reportUnrecognised: true };
      assert.deepEqual(validateText(text, options), validateText(text, { ...options, fastPath: false }), file);
    }
  });
});
