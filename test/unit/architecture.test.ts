import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(__dirname, '../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import|require\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]!);
}

/** The rule a lint config would hold: the core never depends on a framework or an adapter. */
describe('architecture', () => {
  it('src/ imports no framework and no adapter', () => {
    const offending = sourceFiles(join(root, 'src')).flatMap((file) =>
      importsOf(file)
        .filter((spec) => /^(express|koa)(\/|$)/.test(spec) || spec.includes('adapters/'))
        .map((spec) => `${relative(root, file)} imports ${spec}`),
    );
    expect(offending).to.deep.equal([]);
  });

  it('adapters import the core, never each other', () => {
    const offending = sourceFiles(join(root, 'adapters')).flatMap((file) =>
      importsOf(file)
        .filter((spec) => spec.startsWith('./'))
        .map((spec) => `${relative(root, file)} imports ${spec}`),
    );
    expect(offending).to.deep.equal([]);
  });

  it('nothing turns off TLS certificate checks', () => {
    const offending = [...sourceFiles(join(root, 'src')), ...sourceFiles(join(root, 'adapters'))].filter((file) =>
      /rejectUnauthorized|NODE_TLS_REJECT_UNAUTHORIZED/.test(readFileSync(file, 'utf8')),
    );
    expect(offending).to.deep.equal([]);
  });
});
