import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { createMockOurs, type MockOurs } from '../../src/testing';
import { freePort } from '../support/http';
import { packedPackage, root, run, tsc, type Packed } from '../support/packed';
import { codeBlocks, type CodeBlock } from './code-blocks';

const DOCS = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const blocks = DOCS.flatMap((doc) => codeBlocks(doc, readFileSync(join(root, doc), 'utf8')));
const TOKEN = 'readme-token';

/** On top of what `tsc --init` writes: the `types` the README's install section asks for, and checked JavaScript. */
const TSCONFIG_ADDED = { types: ['node'], allowJs: true, checkJs: true, noEmit: true };

/**
 * Every ```ts and ```js block of the README and docs/ is compiled against the
 * packed package, as a user's project under `tsc --init`'s settings compiles
 * it, and the blocks marked to run are run against the mock Ours API. See
 * test/docs/code-blocks.ts for the markers a block may carry.
 */
describe('code blocks in README.md and docs/', function () {
  this.timeout(240_000);
  let packed: Packed;
  let dir: string;
  before(async () => {
    packed = await packedPackage();
    dir = join(packed.app, 'blocks');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'blocks', private: true, type: 'commonjs' }),
    );
    await tsc(dir, ['--init']);
    const { compilerOptions } = ts.parseConfigFileTextToJson(
      'tsconfig.json',
      readFileSync(join(dir, 'tsconfig.json'), 'utf8'),
    ).config;
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { ...compilerOptions, ...TSCONFIG_ADDED },
        include: ['*.mts', '*.cjs'],
      }),
    );
    for (const block of blocks.filter((b) => !b.skip))
      writeFileSync(join(dir, block.file), block.code);
  });

  it('reads the markers above a block, indented ones too', () => {
    const markdown = [
      '# t',
      '',
      '<!-- check: preamble',
      'declare const a: number;',
      '-->',
      '<!-- check: serve GET / POST /x -->',
      '```ts',
      'a;',
      '```',
      '- item',
      '  <!-- check: skip -->',
      '  ```js',
      '  b;',
      '  ```',
      '',
      '```sh',
      'ls',
      '```',
    ].join('\n');
    const [first, second, ...rest] = codeBlocks('x.md', markdown);
    expect(rest).to.deep.equal([]);
    expect(first).to.include({
      line: 8,
      file: 'block-x-md-8.mts',
      code: 'declare const a: number;\na;\nexport {};\n',
      preambleLines: 1,
      skip: false,
    });
    expect(first!.run).to.deep.equal({ mode: 'serve', requests: ['GET /', 'POST /x'] });
    expect(second).to.include({ line: 13, file: 'block-x-md-13.cjs', code: 'b;\n', skip: true });
  });

  it('finds the blocks (the README has TypeScript and CommonJS ones)', () => {
    expect(
      blocks.filter((b) => b.doc === 'README.md' && b.file.endsWith('.mts')),
    ).to.have.length.above(3);
    expect(
      blocks.filter((b) => b.doc === 'README.md' && b.file.endsWith('.cjs')),
    ).to.have.length.above(0);
    expect(blocks.filter((b) => b.run)).to.have.length.above(1);
  });

  it('every block type-checks under strict and exactOptionalPropertyTypes', async () => {
    const checked = blocks.filter((b) => !b.skip);
    await tsc(dir, ['-p', '.']).catch((err: Error) => {
      // Point each error at the Markdown line it came from.
      const where = err.message.replace(
        /^(block-[\w.-]+)\((\d+),(\d+)\)/gm,
        (all, file: string, line: string) => {
          const block = checked.find((b) => b.file === file);
          return block ? `${block.doc}:${block.line + Number(line) - block.preambleLines}` : all;
        },
      );
      throw new Error(where);
    });
  });

  for (const block of blocks.filter((b) => b.run)) {
    it(`runs ${block.doc}:${block.line} (${block.run!.mode}) against the mock API`, async () => {
      const mock = await createMockOurs({ token: TOKEN });
      try {
        await runBlock(block, dir, mock);
        expect(mock.violations, 'what the block sent breaks the contract').to.deep.equal([]);
      } finally {
        await mock.close();
      }
    });
  }
});

async function runBlock(block: CodeBlock, dir: string, mock: MockOurs): Promise<void> {
  const port = await freePort();
  const env = { ...process.env, OURS_TOKEN: TOKEN, OURS_API_URL: mock.url, PORT: String(port) };
  const args = block.file.endsWith('.mts') ? ['--import', 'tsx', block.file] : [block.file];
  if (block.run!.mode === 'run') {
    await run(process.execPath, args, { cwd: dir, env, timeout: 60_000 }).catch(
      (err: Error & { stdout?: string; stderr?: string }) => {
        throw new Error(
          `${block.doc}:${block.line} failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`,
        );
      },
    );
    return;
  }
  // serve: start the app, send it the requests listed, stop it as Ctrl-C would, and expect the events delivered.
  const child = spawn(process.execPath, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  try {
    for (const request of block.run!.requests) {
      const [method, path] = request.split(' ') as [string, string];
      const res = await retry(
        () =>
          fetch(`http://127.0.0.1:${port}${path}`, {
            method,
            headers: { cookie: 'ours_device_id=3c9a7e15-8d2b-4f60-a1e4-7b5c3d2e1f09' },
          }),
        exited,
      );
      expect(res.status, `${method} ${path}\n${output}`).to.be.below(400);
      await res.arrayBuffer();
    }
    child.kill('SIGINT');
    expect(await exited, `exit code\n${output}`).to.equal(0);
    expect(mock.events.length, `events delivered before exit\n${output}`).to.be.at.least(
      block.run!.requests.length,
    );
  } finally {
    child.kill('SIGKILL');
  }
}

/** The app takes a moment to listen: try again until it answers, or has exited. */
async function retry<T>(attempt: () => Promise<T>, exited: Promise<unknown>): Promise<T> {
  let gone = false;
  void exited.then(() => (gone = true));
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (gone || i > 300) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
