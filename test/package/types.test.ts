import { expect } from 'chai';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { packedPackage, tsc, type Packed } from '../support/packed';

const fixture = join(__dirname, 'fixtures/app.ts');
/** A CommonJS file as a project made by `tsc --init` must write it (`verbatimModuleSyntax`). */
const commonJsFile = `import express = require('express');
import oursExpress = require('ours-middleware/express');
import type { ClientOptions } from 'ours-middleware';
const options: ClientOptions = { token: process.env.OURS_TOKEN, apiUrl: process.env.OURS_API_URL };
const app = express();
app.use(oursExpress.ours({ ...options, identify: (req) => ({ externalId: req.get('x-user-id') }) }));
`;

/**
 * The packed package's types, compiled as user projects configure
 * TypeScript: what `tsc --init` writes (strict, exactOptionalPropertyTypes,
 * nodenext, verbatimModuleSyntax, `types: []`), an older CommonJS project
 * (`moduleResolution: node10`), and a bundler project. The fixture passes
 * what real code passes: `T | undefined` from the environment and sessions.
 */
describe('the packed package, typed as user projects configure TypeScript', function () {
  this.timeout(240_000);
  let packed: Packed;
  before(async () => {
    packed = await packedPackage();
  });

  function project(
    name: string,
    packageJson: object,
    tsconfig: object | null,
    files: Record<string, string>,
  ): string {
    const dir = join(packed.app, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name, private: true, ...packageJson }),
    );
    if (tsconfig) writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    for (const [file, code] of Object.entries(files)) writeFileSync(join(dir, file), code);
    return dir;
  }

  it('compiles under the tsconfig `tsc --init` writes (ESM, and a .cts file)', async () => {
    const code = readFileSync(fixture, 'utf8');
    const dir = project('init', { type: 'module' }, null, {
      'app.ts': code,
      'legacy.cts': commonJsFile,
    });
    await tsc(dir, ['--init']);
    const written = ts.parseConfigFileTextToJson(
      'tsconfig.json',
      readFileSync(join(dir, 'tsconfig.json'), 'utf8'),
    ).config;
    expect(written.compilerOptions).to.include({
      strict: true,
      exactOptionalPropertyTypes: true,
      module: 'nodenext',
    });
    await tsc(dir, ['-p', '.', '--noEmit']);
  });

  it('compiles a CommonJS project with moduleResolution node10', async () => {
    const options = {
      module: 'commonjs',
      moduleResolution: 'node10',
      target: 'es2020',
      strict: true,
      exactOptionalPropertyTypes: true,
      esModuleInterop: true,
      skipLibCheck: true,
      noEmit: true,
    };
    const dir = project(
      'node10',
      {},
      { compilerOptions: options, files: ['app.ts'] },
      { 'app.ts': readFileSync(fixture, 'utf8') },
    );
    await tsc(dir, ['-p', '.']);
  });

  it('compiles a bundler project (module esnext, moduleResolution bundler)', async () => {
    const options = {
      module: 'esnext',
      moduleResolution: 'bundler',
      target: 'es2022',
      strict: true,
      exactOptionalPropertyTypes: true,
      skipLibCheck: true,
      noEmit: true,
      types: ['node'],
    };
    const dir = project(
      'bundler',
      { type: 'module' },
      { compilerOptions: options, files: ['app.ts'] },
      { 'app.ts': readFileSync(fixture, 'utf8') },
    );
    await tsc(dir, ['-p', '.']);
  });

  it('every optional property of a public type accepts undefined (exactOptionalPropertyTypes)', () => {
    const pkg = join(packed.app, 'node_modules/ours-middleware');
    const entries = [
      'src/index',
      'adapters/express',
      'adapters/koa',
      'adapters/fastify',
      'adapters/node',
      'adapters/fetch',
      'adapters/hono',
      'src/testing/index',
    ].map((e) => join(pkg, `dist/cjs/${e}.d.ts`));
    expect(refusingUndefined(pkg, entries, join(packed.app, 'node_modules/@types'))).to.deep.equal(
      [],
    );
  });
});

/**
 * Walks every type reachable from the entry points' exports (properties,
 * parameters, return types, type arguments) and lists the optional
 * properties declared in the package whose type leaves out `undefined`:
 * under exactOptionalPropertyTypes, `{ token: process.env.OURS_TOKEN }` is an
 * error against `token?: string`, and fine against `token?: string | undefined`.
 */
function refusingUndefined(pkg: string, entries: string[], typeRoots: string): string[] {
  const program = ts.createProgram(entries, {
    strict: true,
    exactOptionalPropertyTypes: true,
    noEmit: true,
    types: ['node'],
    typeRoots: [typeRoots],
  });
  const checker = program.getTypeChecker();
  const ours = (node: ts.Node): boolean =>
    node.getSourceFile().fileName.startsWith(pkg) &&
    !node.getSourceFile().fileName.includes('/node_modules/ours-middleware/node_modules/');
  const seen = new Set<ts.Type>();
  const refusing = new Set<string>();
  const acceptsUndefined = (t: ts.Type): boolean =>
    (t.flags &
      (ts.TypeFlags.Undefined | ts.TypeFlags.Any | ts.TypeFlags.Unknown | ts.TypeFlags.Never)) !==
      0 ||
    (t.isUnion() && t.types.some(acceptsUndefined));
  const walk = (type: ts.Type): void => {
    if (seen.has(type)) return;
    seen.add(type);
    if (type.isUnionOrIntersection()) return type.types.forEach(walk);
    for (const sig of [...type.getCallSignatures(), ...type.getConstructSignatures()]) {
      for (const param of sig.parameters) walk(checker.getTypeOfSymbol(param));
      walk(sig.getReturnType());
    }
    if (!(type.flags & ts.TypeFlags.Object)) return;
    if ((type as ts.ObjectType).objectFlags & ts.ObjectFlags.Reference)
      checker.getTypeArguments(type as ts.TypeReference).forEach(walk);
    for (const prop of checker.getPropertiesOfType(type)) {
      const decl = prop.valueDeclaration ?? prop.declarations?.[0];
      if (
        !decl ||
        !ours(decl) ||
        ts.getCombinedModifierFlags(decl as ts.Declaration) &
          (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)
      )
        continue;
      if (
        (ts.isPropertySignature(decl) || ts.isPropertyDeclaration(decl)) &&
        decl.questionToken &&
        decl.type &&
        !acceptsUndefined(checker.getTypeFromTypeNode(decl.type))
      ) {
        const owner =
          ts.isInterfaceDeclaration(decl.parent) || ts.isClassDeclaration(decl.parent)
            ? `${decl.parent.name?.text}.`
            : '';
        refusing.add(
          `${decl.getSourceFile().fileName.slice(pkg.length + 1)}: ${owner}${prop.name}`,
        );
      }
      walk(checker.getTypeOfSymbol(prop));
    }
  };
  for (const entry of entries) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
    for (let symbol of checker.getExportsOfModule(module)) {
      if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
      if (
        symbol.flags &
        (ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Class)
      )
        walk(checker.getDeclaredTypeOfSymbol(symbol));
      if (symbol.flags & ts.SymbolFlags.Value) walk(checker.getTypeOfSymbol(symbol));
    }
  }
  return [...refusing].sort();
}
