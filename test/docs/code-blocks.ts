/**
 * Finds the ```ts and ```js blocks of a Markdown file, for
 * code-blocks.test.ts. An HTML comment right above a block (invisible on
 * GitHub and npm) may say more about it; several may stack:
 *
 *   <!-- check: preamble
 *   import express from 'express';
 *   const app = express();
 *   -->                                  code the block needs but does not show
 *   <!-- check: run -->                  run it: it must exit 0
 *   <!-- check: serve GET / POST /x -->  start it, send those requests with a
 *                                        visitor cookie, stop it with SIGINT:
 *                                        it must exit 0 with the events delivered
 *   <!-- check: skip -->                 neither compile nor run it (say why in the text)
 *
 * Runs get OURS_TOKEN and OURS_API_URL (a mock Ours API) and PORT.
 * ```ts blocks are ES modules (`.mts`), ```js blocks CommonJS (`.cjs`);
 * blocks indented in a list are found too.
 */
export interface CodeBlock {
  doc: string;
  /** Line of the block's first code line in the Markdown file (1-based). */
  line: number;
  /** File name the block is written to. */
  file: string;
  code: string;
  preambleLines: number;
  skip: boolean;
  run?: { mode: 'run' | 'serve'; requests: string[] };
}

const FENCE = /^( *)```(ts|typescript|js|javascript)\s*$/;
const MARK = /^<!-- check: (preamble|run|serve|skip)\b([\s\S]*?)-->$/;

export function codeBlocks(doc: string, markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = FENCE.exec(lines[i]!);
    if (!fence) continue;
    const indent = fence[1]!;
    const end = lines.findIndex((l, at) => at > i && l.trimEnd() === `${indent}\`\`\``);
    if (end < 0) throw new Error(`${doc}:${i + 1}: unclosed code block`);
    const marks = marksAbove(lines, i);
    const preamble = marks
      .filter((m) => m.kind === 'preamble')
      .map((m) => m.body.trim() + '\n')
      .join('');
    const runMark = marks.find((m) => m.kind === 'run' || m.kind === 'serve');
    const js = fence[2]!.startsWith('j');
    const name = `block-${doc.replace(/[^\w]+/g, '-')}-${i + 2}`;
    const body =
      lines
        .slice(i + 1, end)
        .map((l) => l.slice(indent.length))
        .join('\n') + '\n';
    blocks.push({
      doc,
      line: i + 2,
      file: `${name}${js ? '.cjs' : '.mts'}`,
      code: preamble + body + (js ? '' : 'export {};\n'),
      preambleLines: preamble ? preamble.split('\n').length - 1 : 0,
      skip: marks.some((m) => m.kind === 'skip'),
      ...(runMark && {
        run: {
          mode: runMark.kind as 'run' | 'serve',
          requests: runMark.body
            .trim()
            .split(/\s+(?=[A-Z]+ \/)/)
            .filter(Boolean),
        },
      }),
    });
    i = end;
  }
  return blocks;
}

/** The `<!-- check: ... -->` comments stacked directly above line `fence`. */
function marksAbove(lines: string[], fence: number): { kind: string; body: string }[] {
  const marks: { kind: string; body: string }[] = [];
  let end = fence - 1;
  while (end >= 0 && lines[end]!.trimEnd().endsWith('-->')) {
    let start = end;
    while (start > 0 && !lines[start]!.trimStart().startsWith('<!--')) start--;
    const mark = MARK.exec(
      lines
        .slice(start, end + 1)
        .join('\n')
        .trim(),
    );
    if (!mark) break;
    marks.unshift({ kind: mark[1]!, body: mark[2]! });
    end = start - 1;
  }
  return marks;
}
