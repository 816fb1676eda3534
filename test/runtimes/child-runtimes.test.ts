import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { binaryOf, RUNTIMES, type Runtime } from './binaries';
import { describeContract, type RunScenario } from './contract';

const root = join(__dirname, '../..');
const runner = join(__dirname, 'fixtures/run-contract.mjs');
const packageUrl = pathToFileURL(join(root, 'dist/esm/index.mjs')).href;

/** The runtime's runner, or why it cannot run here. */
function runnerFor(runtime: Runtime): RunScenario | string {
  const binary = binaryOf(runtime);
  if (typeof binary === 'string') return binary;
  return (name, apiUrl) =>
    new Promise((resolve, reject) => {
      execFile(
        binary.path,
        [...runtime.args, runner, packageUrl, apiUrl, name],
        { timeout: 45_000, env: { ...process.env, NO_COLOR: '1' } },
        (err, stdout, stderr) => {
          if (err) return reject(new Error(`${name}: ${err.message}\n${stderr}`));
          resolve(JSON.parse(stdout.trim().split('\n').pop()!));
        },
      );
    });
}

for (const runtime of RUNTIMES) {
  describeContract(
    runtime.name,
    () => runnerFor(runtime),
    () => true,
    true,
  );
}
