import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { runTool } from '../../../src/core/hardware/run-tool';

describe('runTool', () => {
  it('returns the output of a tool that succeeds', async () => {
    const result = await runTool(process.execPath, ['-e', 'process.stdout.write("hello")'], { timeoutMs: 5_000 });
    assert.deepEqual(result, { ok: true, stdout: 'hello', stderr: '' });
  });

  it('reports a missing tool instead of throwing', async () => {
    const result = await runTool('/nonexistent/nvidia-smi', [], { timeoutMs: 5_000 });
    assert.equal(result.ok, false);
    assert.equal(result.error, '/nonexistent/nvidia-smi not found');
  });

  it('reports the exit code and the end of stderr', async () => {
    const result = await runTool(process.execPath, ['-e', 'console.error("first\\nlast words"); process.exit(4)'], { timeoutMs: 5_000 });
    assert.equal(result.ok, false);
    assert.equal(result.error, 'exit code 4: first last words');
  });

  it('passes arguments verbatim, without a shell', async () => {
    const tricky = ['$(touch /tmp/pwned)', 'a b', '"; exit 1'];
    const result = await runTool(process.execPath, ['-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', ...tricky], {
      timeoutMs: 5_000,
    });
    assert.deepEqual(JSON.parse(result.stdout), tricky);
  });

  it('resolves soon after the timeout even when the killed tool leaves its pipe open', async function () {
    this.timeout(10_000);
    const started = performance.now();
    const result = await runTool(path.resolve('test/fixtures/hardware/keeps-pipe-open.sh'), [], { timeoutMs: 200 });
    const elapsed = performance.now() - started;
    assert.equal(result.ok, false);
    assert.match(result.error ?? '', /timed out after 200 ms/);
    assert.ok(elapsed < 2_000, `took ${Math.round(elapsed)} ms`);
  });
});
