import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { OursClient, OursValidationError } from '../../src/index';
import { createMockOurs } from '../../src/testing';
import { root } from '../support/packed';

/**
 * Facts the README states about the package itself, held against the
 * package: the error text it quotes, the dependencies it justifies, the
 * command CI runs. Behaviour is held where it is built (see docs/promises.md).
 */
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The text of one `## heading` section of the README. */
function section(heading: string): string {
  const start = readme.indexOf(`\n## ${heading}\n`);
  expect(start, `README has a "## ${heading}" section`).to.be.above(-1);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

describe('README facts', () => {
  it('the OursValidationError message it quotes is the one the client reports', async () => {
    const quoted = /`(track dropped: userProperties\.email is (\d+) characters[^`]*)`/.exec(
      section('Errors'),
    );
    expect(quoted, 'the quoted message').to.not.equal(null);
    const mock = await createMockOurs();
    const client = new OursClient({ apiUrl: mock.url, token: 't', logger: false });
    const errors: Error[] = [];
    client.on('error', (err) => errors.push(err));
    try {
      client.track({
        event: 'Signed Up',
        userId: '5e2d9c1a-7b3f-4a6e-9c8d-1f0e2d3c4b5a',
        userProperties: { email: 'a'.repeat(Number(quoted![2])) },
      });
    } finally {
      await client.shutdown();
      await mock.close();
    }
    expect(errors.map((e) => [e instanceof OursValidationError, e.message])).to.deep.equal([
      [true, quoted![1]],
    ]);
  });

  it('"Design and dependencies" names every runtime dependency, and node-fetch and request-ip are none', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const named = [...section('Design and dependencies').matchAll(/^- \*\*([\w-]+)/gm)].map(
      (m) => m[1],
    );
    expect(named.sort()).to.deep.equal(Object.keys(pkg.dependencies).sort());
    expect(pkg.dependencies).not.to.have.any.keys('node-fetch', 'request-ip');
    expect(pkg.peerDependenciesMeta['request-ip']).to.deep.equal({ optional: true });
  });

  it('"Development" gives the commands .ci/run runs, in its order', () => {
    const ci = readFileSync(join(root, '.ci/run'), 'utf8');
    const npmRuns = [...ci.matchAll(/^(npm (?:run \w+|test))\s*$/gm)].map((m) => m[1]!);
    expect(npmRuns).to.deep.equal(['npm run lint', 'npm test']);
    const text = section('Development');
    const positions = npmRuns.map((command) => text.indexOf(`\`${command}\``));
    expect(positions, text).to.not.include(-1);
    expect([...positions].sort((a, b) => a - b)).to.deep.equal(positions);
    expect(text).to.include('.ci/run');
  });
});

describe('docs/promises.md', () => {
  const promises = readFileSync(join(root, 'docs/promises.md'), 'utf8');
  const CITATION =
    /`(test\/[\w/.-]+\.test\.ts)`((?:\s*›\s*"(?:[^"\\]|\\.)*"(?:,\s*"(?:[^"\\]|\\.)*")*)?)/g;

  it('names only tests that exist, in the files it names', () => {
    const missing: string[] = [];
    let cited = 0;
    for (const [, file, names] of promises.matchAll(CITATION)) {
      let source: string;
      try {
        source = readFileSync(join(root, file!), 'utf8');
      } catch {
        missing.push(file!);
        continue;
      }
      for (const [, name] of names!.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
        cited++;
        // `${…}` and `…` stand for what a test fills in per case.
        const pieces = name!.replace(/\\"/g, '"').split(/\$\{[^}]*\}|…/);
        if (!pieces.every((piece) => source.includes(piece))) missing.push(`${file} › ${name}`);
      }
    }
    expect(cited, 'citations found').to.be.above(100);
    expect(missing).to.deep.equal([]);
  });
});

describe('links between the docs', () => {
  /** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
  const slug = (heading: string): string =>
    heading
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}_\- ]/gu, '')
      .replace(/ /g, '-');
  const anchorsOf = (file: string): string[] =>
    [...readFileSync(join(root, file), 'utf8').matchAll(/^#+ (.*)$/gm)].map((m) => slug(m[1]!));

  it('every relative link of README.md, CONTRIBUTING.md and docs/ resolves, anchors included', () => {
    const files = [
      'README.md',
      'CONTRIBUTING.md',
      ...readdirSync(join(root, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`),
    ];
    const broken: string[] = [];
    for (const file of files) {
      const text = readFileSync(join(root, file), 'utf8');
      for (const [, link] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(link!)) continue;
        const [path, anchor] = link!.split('#') as [string, string | undefined];
        const target = path ? normalize(join(dirname(file), path)) : file;
        if (!existsSync(join(root, target))) broken.push(`${file}: ${link}`);
        else if (anchor && target.endsWith('.md') && !anchorsOf(target).includes(anchor))
          broken.push(`${file}: ${link} (no such heading)`);
      }
    }
    expect(broken).to.deep.equal([]);
  });
});
