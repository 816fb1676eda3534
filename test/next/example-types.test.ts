/**
 * examples/next, type-checked against each installed Next version's own
 * types, as `next build` would check it, without building it: the route
 * handlers' exports (`export const POST = withOurs(...)`), the page, the
 * layout, the server action and middleware.ts. Next 15.5+ writes its route
 * checks with `next typegen` (.next/types/validator.ts); Next 14 has no
 * typegen, so the test writes the checks its build makes (a route's method
 * takes a `NextRequest` and `{ params }`, answers a `Response`). Each version
 * takes a few seconds (tsc), against a minute for `next build`.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { nextVersion } from './harness';

const HERE = resolve(__dirname);
const REPO = resolve(HERE, '../..');
const EXAMPLE = join(REPO, 'examples/next');
const TSC = require.resolve('typescript/bin/tsc');
const run = promisify(execFile);

/** The checks Next 14's build makes of route handlers, and a middleware's type (every version). */
function writeChecks(dir: string, major: number): void {
  const routes = readdirSync(join(dir, 'app'), { recursive: true, encoding: 'utf8' })
    .filter((f) => /(^|\/)route\.ts$/.test(f))
    .map((f) => `./app/${f.slice(0, -3)}`);
  const params =
    major >= 15
      ? 'Promise<Record<string, string | string[]>>'
      : 'Record<string, string | string[]>';
  const lines = [
    "import type { NextMiddleware, NextRequest } from 'next/server';",
    `type Handler = (request: NextRequest, context: { params: ${params} }) => Response | void | Promise<Response | void>;`,
    "type RouteModule = Partial<Record<'GET' | 'HEAD' | 'OPTIONS' | 'POST' | 'PUT' | 'DELETE' | 'PATCH', Handler>>;",
    ...routes.map(
      (route, i) => `export const route${i}: RouteModule = {} as typeof import('${route}');`,
    ),
    "export const middleware: NextMiddleware = ({} as typeof import('./middleware')).default;",
  ];
  writeFileSync(join(dir, 'ours-checks.ts'), lines.join('\n') + '\n');
}

/**
 * Copies `app` next to version `major`'s node_modules (with this package
 * linked in as `ours-middleware`, its dist/ built), writes Next's checks, and
 * runs tsc; resolves with tsc's exit code and output.
 */
async function typeCheck(major: number, app: string): Promise<{ code: number; output: string }> {
  const dir = join(HERE, `next${major}`, 'example-types');
  rmSync(dir, { recursive: true, force: true });
  cpSync(app, dir, { recursive: true, filter: (f) => !/package\.json$|README\.md$/.test(f) });
  const link = join(HERE, `next${major}`, 'node_modules/ours-middleware');
  if (!existsSync(link)) symlinkSync(REPO, link, 'dir');
  cpSync(join(HERE, 'app/tsconfig.json'), join(dir, 'tsconfig.json'));
  writeFileSync(join(dir, 'next-env.d.ts'), '/// <reference types="next" />\n');
  writeChecks(dir, major);
  if (major >= 15) {
    const next = join(HERE, `next${major}`, 'node_modules/next/dist/bin/next');
    await run(process.execPath, [next, 'typegen'], {
      cwd: dir,
      env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
    });
  }
  try {
    await run(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: dir });
    return { code: 0, output: '' };
  } catch (err) {
    const { code, stdout, stderr } = err as { code: number; stdout: string; stderr: string };
    return { code, output: `${stdout}${stderr}` };
  }
}

describe('examples/next type-checks against Next.js 14, 15 and 16', () => {
  for (const major of [14, 15, 16]) {
    const version = nextVersion(major);
    it(`Next ${major}: route exports, page, layout, server action and middleware`, async function () {
      if (typeof version !== 'string') {
        console.log(`      skipped: ${version.missing}`);
        return this.skip();
      }
      this.timeout(120_000); // tsc on a loaded 2-core machine
      const started = performance.now();
      const { code, output } = await typeCheck(major, EXAMPLE);
      console.log(
        `      next ${version}: type-checked in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
      expect(output).to.equal('');
      expect(code).to.equal(0);
    });
  }

  it("fails on a route whose export Next would refuse (Next 15+'s params are a Promise)", async function () {
    const version = nextVersion(16);
    if (typeof version !== 'string') return this.skip();
    this.timeout(120_000);
    const broken = join(HERE, 'next16', 'example-broken');
    rmSync(broken, { recursive: true, force: true });
    cpSync(EXAMPLE, broken, { recursive: true });
    writeFileSync(
      join(broken, 'app/api/signup/route.ts'),
      [
        "import { withOurs } from 'ours-middleware/next';",
        "import { client } from '../../../lib/ours';",
        'export const GET = withOurs<{ params: { id: string } }>(',
        '  (_request, ctx) => Response.json({ id: ctx.params.id }),',
        '  { client },',
        ');',
      ].join('\n'),
    );
    try {
      const { code, output } = await typeCheck(16, broken);
      expect(code).to.not.equal(0);
      expect(output).to.match(/app\/api\/signup\/route/);
      expect(output).to.include("Types of property 'GET' are incompatible");
    } finally {
      rmSync(broken, { recursive: true, force: true });
    }
  });
});
