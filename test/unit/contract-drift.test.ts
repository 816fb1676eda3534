import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { resolve } from 'node:path';

const run = promisify(execFile);

describe('contract types and schema', () => {
  it('are generated from the contract as it stands (drift fails the suite)', async () => {
    const script = resolve(__dirname, '../../scripts/gen-contract.mjs');
    const result = await run(process.execPath, [script, '--check']).then(
      () => 'in step',
      (err) => String(err.stderr),
    );
    expect(result).to.equal('in step');
  });

  it('the project copy of the contract is the reference, when the reference is beside it', async function () {
    const { readFileSync, existsSync } = await import('node:fs');
    const reference = resolve(__dirname, '../../../shared/reference/ours-openapi.json');
    if (!existsSync(reference)) this.skip(); // a plain clone stands alone
    const copy = resolve(__dirname, '../../src/contract/ours-openapi.json');
    expect(readFileSync(copy, 'utf8')).to.equal(readFileSync(reference, 'utf8'));
  });
});
