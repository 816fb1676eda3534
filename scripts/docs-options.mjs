// Writes the option tables of README.md and docs/*.md from the TSDoc of the
// option interfaces, so the two never drift. A table is the text between
//   <!-- options: src/options.ts ClientOptions [prefix] -->  and  <!-- /options -->
// and lists the interface's own members (not inherited ones): name, the
// @defaultValue tag, and the summary. `--check` changes nothing and exits 1
// when a table is out of date (the test suite runs it).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ts = createRequire(import.meta.url)('typescript');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const TABLE = /(<!-- options: (\S+) (\w+)(?: (\S+))? -->\n)[\s\S]*?(<!-- \/options -->)/g;

/** `{@link X}` and line breaks as a table cell shows them. */
const cell = (text) =>
  text
    .replace(/\{@link\s+([^}\s]+)\s*\}/g, '`$1`')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .trim();

/** A default that reads as code (a number, a quoted string, a boolean, a tuple) is shown as code. */
function defaultCell(text) {
  if (!text) return 'none';
  const value = text.trim();
  if (/^(-?\d[\d_]*|true|false|'[^']*'|\[[^\]]*\])$/.test(value)) return `\`${value}\``;
  const [code, rest] = /^(-?\d+)\s+(\(.*\))$/.exec(value)?.slice(1) ?? [];
  return code ? `\`${code}\` ${cell(rest)}` : cell(value);
}

function rows(file, name, prefix = '') {
  const source = ts.createSourceFile(
    file,
    readFileSync(join(root, file), 'utf8'),
    ts.ScriptTarget.Latest,
    true,
  );
  const decl = source.statements.find((s) => ts.isInterfaceDeclaration(s) && s.name.text === name);
  if (!decl) throw new Error(`${file} has no interface ${name}`);
  const lines = ['| option | default | what |', '| --- | --- | --- |'];
  for (const member of decl.members) {
    if (!ts.isPropertySignature(member)) continue;
    const doc = ts.getJSDocCommentsAndTags(member).find(ts.isJSDoc);
    const summary = cell(ts.getTextOfJSDocComment(doc?.comment) ?? '');
    const def = doc?.tags?.find((t) => t.tagName.text === 'defaultValue');
    const key = member.name.getText(source);
    if (!summary) throw new Error(`${file}: ${name}.${key} has no TSDoc summary`);
    lines.push(
      `| \`${prefix}${key}\` | ${defaultCell(ts.getTextOfJSDocComment(def?.comment))} | ${summary} |`,
    );
  }
  return lines.join('\n') + '\n';
}

function renderTables(text) {
  return text.replace(
    TABLE,
    (_all, open, file, name, prefix, close) => open + rows(file, name, prefix) + close,
  );
}

const docs = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const check = process.argv.includes('--check');
const stale = [];
for (const doc of docs) {
  const path = join(root, doc);
  const text = readFileSync(path, 'utf8');
  const rendered = renderTables(text);
  if (rendered === text) continue;
  stale.push(doc);
  if (!check) writeFileSync(path, rendered);
}
if (check && stale.length) {
  console.error(
    `Option tables out of date with the TSDoc in ${stale.join(', ')}: run npm run docs:options`,
  );
  process.exit(1);
}
if (!check) console.log(stale.length ? `updated ${stale.join(', ')}` : 'option tables up to date');
