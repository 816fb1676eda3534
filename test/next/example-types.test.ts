/**
 * examples/next, type-checked against each installed Next version's own
 * types, as `next build` would check it, without building it: the route
 * handlers' exports (`export const POST = withOurs(...)`), the page, the
 * layout, the server action and middleware.ts. Next 15.5+ writes its route
 * checks with `next typegen` (.next/types/validator.ts); Next 14 has no
 * typegen, so the test writes the checks its build makes (a route's method
 * takes a `NextRequest` and `{ params }`, answers a `Response`). Beside the
 * example, the routes apps write (`routeCases`): params, RouteContext, Next's
 * own `after()`, a catch-all, and Next 16's proxy.ts. Each version takes
 * 8-15 s on a loaded 2-core machine (tsc), against a minute for `next build`.
 */
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
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
  // As Next's own check: any params (14's `PageParams = any`), a Promise of them from 15 on; each
  // route's own params are checked by next typegen's validator (15.5+).
  const params = major >= 15 ? 'Promise<any>' : 'any';
  const lines = [
    "import type { NextMiddleware, NextRequest } from 'next/server';",
    `type Handler = (request: NextRequest, context: { params: ${params} }) => Response | void | Promise<Response | void>;`,
    "type RouteModule = Partial<Record<'GET' | 'HEAD' | 'OPTIONS' | 'POST' | 'PUT' | 'DELETE' | 'PATCH', Handler>>;",
    ...routes.map(
      (route, i) => `export const route${i}: RouteModule = {} as typeof import('${route}');`,
    ),
    "export const middleware: NextMiddleware = ({} as typeof import('./middleware')).default;",
  ];
  // Next 16's name for middleware.ts: proxy.ts, its `proxy` export (or its default).
  if (existsSync(join(dir, 'proxy.ts')))
    lines.push(
      'type ProxyModule = { proxy?: NextMiddleware; default?: NextMiddleware };',
      "export const proxy: ProxyModule = {} as typeof import('./proxy');",
    );
  writeFileSync(join(dir, 'ours-checks.ts'), lines.join('\n') + '\n');
}

/**
 * Copies `app` next to version `major`'s node_modules (with this package
 * linked in as `ours-middleware`, its dist/ built), writes Next's checks, and
 * runs tsc; resolves with tsc's exit code and output.
 */
async function typeCheck(
  major: number,
  app: string,
  extra: Record<string, string> = {},
): Promise<{ code: number; output: string }> {
  const dir = join(HERE, `next${major}`, 'example-types');
  rmSync(dir, { recursive: true, force: true });
  cpSync(app, dir, { recursive: true, filter: (f) => !/package\.json$|README\.md$/.test(f) });
  for (const [file, text] of Object.entries(extra)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
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

/**
 * Route and middleware exports beyond the example's, as apps write them for
 * `major`: `params` as that version gives them (a Promise from 15 on), the
 * request typed as `NextRequest`, Next's `RouteContext` helper (15.5+),
 * Next's own `after()` called beside the tracker's, a catch-all segment, and
 * Next 16's `proxy.ts`.
 */
function routeCases(major: number): Record<string, string> {
  const params = (shape: string): string => (major >= 15 ? `Promise<${shape}>` : shape);
  const read = major >= 15 ? 'await ctx.params' : 'ctx.params';
  const files: Record<string, string> = {
    'app/api/items/[id]/route.ts': `import { NextResponse, type NextRequest } from 'next/server';
import { withOurs } from 'ours-middleware/next';
import { client } from '../../../../lib/ours';

type Ctx = { params: ${params('{ id: string }')} };

export const GET = withOurs<Ctx>(
  async (_request, ctx) => {
    const { id } = ${read};
    ctx.ours.track('Item Viewed', { id });
    return Response.json({ id });
  },
  { client },
);

export const POST = withOurs<Ctx, NextRequest>(
  async (request, ctx) => {
    const { id } = ${read};
    ctx.ours.track('Item Updated', { id, path: request.nextUrl.pathname });
    return NextResponse.json({ id }, { status: 201 });
  },
  { client, setVisitorCookie: true },
);

export const DELETE = withOurs(async (_request, ctx) => {
  ctx.ours.track('Item Deleted');
  return new Response(null, { status: 204 });
}, { client });
`,
    'app/api/files/[...path]/route.ts': `import { withOurs } from 'ours-middleware/next';
import { client } from '../../../../lib/ours';

export const GET = withOurs<{ params: ${params('{ path: string[] }')} }>(
  async (_request, ctx) => {
    const { path } = ${read};
    ctx.ours.track('File Read', { path: path.join('/') });
    return Response.json({ path });
  },
  { client },
);
`,
  };
  if (major >= 15)
    files['app/api/users/[id]/route.ts'] = `import { after } from 'next/server';
import { withOurs } from 'ours-middleware/next';
import { client } from '../../../../lib/ours';

// Next's RouteContext helper (next typegen), and the app's own after() beside the tracker's.
export const GET = withOurs<RouteContext<'/api/users/[id]'>>(
  async (_request, ctx) => {
    const { id } = await ctx.params;
    ctx.ours.track('User Viewed', { id });
    after(() => console.log('audit', id));
    return Response.json({ id });
  },
  { client },
);
`;
  if (major >= 16)
    files['proxy.ts'] =
      `import { NextResponse, type NextFetchEvent, type NextRequest } from 'next/server';
import { withOurs } from 'ours-middleware/next';
import { client } from './lib/ours';

export const proxy = withOurs<NextFetchEvent, NextRequest>(
  (request, event) => {
    event.ours.track('Proxied', { path: request.nextUrl.pathname });
    return NextResponse.next();
  },
  { client, setVisitorCookie: true },
);

export const config = { matcher: ['/((?!_next/|api/).*)'] };
`;
  return files;
}

describe('examples/next type-checks against Next.js 14, 15 and 16', () => {
  for (const major of [14, 15, 16]) {
    const version = nextVersion(major);
    it(`Next ${major}: route exports (params${major >= 15 ? ' a Promise, RouteContext, after() beside withOurs' : ''}, a catch-all), page, layout, server action, middleware${major >= 16 ? ' and proxy.ts' : ''}`, async function () {
      if (typeof version !== 'string') {
        console.log(`      skipped: ${version.missing}`);
        return this.skip();
      }
      this.timeout(120_000); // tsc on a loaded 2-core machine
      const started = performance.now();
      const { code, output } = await typeCheck(major, EXAMPLE, routeCases(major));
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
