// Checks the project's rule "no line over 140 characters" in code (Prettier's printWidth is 140, but Prettier
// does not split long strings or comments, so this catches what it leaves). Lists git-tracked and
// untracked-but-not-ignored files, prints `file:line: N characters (max 140)` for each longer line, exits 1 if any.
// Usage: node scripts/check-line-length.mjs
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const MAX = 140;
const EXTENSIONS = ['.ts', '.mjs', '.cjs', '.js', '.py', '.sh', '.css'];

const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  .split('\0')
  .filter((file) => file && !file.startsWith('test/fixtures/') && EXTENSIONS.some((ext) => file.endsWith(ext)));

let count = 0;
for (const file of files) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    continue; // listed but deleted from the working tree
  }
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.length > MAX) {
      console.log(`${file}:${index + 1}: ${line.length} characters (max ${MAX})`);
      count++;
    }
  });
}
process.exit(count > 0 ? 1 : 0);
