import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { ContractIssue } from '../contract/check';

/**
 * Hard cap on a body, on the wire and decompressed, so a runaway client or a gzip bomb
 * cannot exhaust the test process's memory.
 *
 * @example
 * if (bytes > MAX_BODY_BYTES) console.warn('the mock will answer 413');
 */
export const MAX_BODY_BYTES = 20 * 1024 * 1024;

/**
 * A request body after reading, decompressing and parsing; or why that failed, as the
 * status to answer and the contract issue to record.
 *
 * @example
 * const body = await readBody(req);
 * if (!body.ok) console.log(body.status, body.issue.problem);
 */
export type BodyResult = {
  gzip: boolean;
  wireBytes: number;
  /** Undefined when the body could not be decompressed. */
  decodedBytes: number | undefined;
} & ({ ok: true; value: unknown } | { ok: false; status: 400 | 413 | 415; issue: ContractIssue });

/**
 * Reads the whole body of `req` and turns it into JSON, checking encoding and type.
 *
 * @example
 * server.on('request', async (req, res) => res.end(JSON.stringify(await readBody(req))));
 */
export async function readBody(req: IncomingMessage): Promise<BodyResult> {
  const { data, wireBytes } = await readRaw(req, MAX_BODY_BYTES);
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const gzip = encoding === 'gzip';
  const base = { gzip, wireBytes, decodedBytes: undefined };
  if (!data) return { ...base, ok: false, status: 413, issue: tooLarge() };
  const refused = refuseHeaders(req.headers, encoding);
  if (refused) return { ...base, ok: false, status: 415, issue: refused };
  let text: string;
  try {
    text = (gzip ? gunzipSync(data, { maxOutputLength: MAX_BODY_BYTES }) : data).toString('utf8');
  } catch (err) {
    // ERR_BUFFER_TOO_LARGE is zlib stopping at maxOutputLength: a bomb, not bad gzip.
    const big = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
    const issue = big ? tooLarge() : { field: '', problem: 'is not valid gzip' };
    return { ...base, ok: false, status: big ? 413 : 400, issue };
  }
  const decoded = { ...base, decodedBytes: Buffer.byteLength(text) };
  try {
    return { ...decoded, ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return {
      ...decoded,
      ok: false,
      status: 400,
      issue: { field: '', problem: 'is not valid JSON' },
    };
  }
}

/** The contract's bodies are `application/json`, sent plain or gzipped; nothing else. */
function refuseHeaders(headers: IncomingHttpHeaders, encoding: string): ContractIssue | undefined {
  if (encoding !== 'gzip' && encoding !== 'identity') {
    return { field: 'Content-Encoding', problem: 'is not supported', limit: 'gzip, identity' };
  }
  const type = (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    return {
      field: 'Content-Type',
      problem: 'must be application/json',
      limit: 'application/json',
    };
  }
  return undefined;
}

function tooLarge(): ContractIssue {
  return { field: '', problem: 'is over the mock server body cap', limit: MAX_BODY_BYTES };
}

/**
 * Collects the body; past `cap` it keeps draining but drops the bytes (`data` is then
 * undefined), so memory stays bounded and the client still gets a clean 413.
 */
function readRaw(req: IncomingMessage, cap: number): Promise<{ data?: Buffer; wireBytes: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let wireBytes = 0;
    req.on('data', (chunk: Buffer) => {
      wireBytes += chunk.length;
      if (wireBytes <= cap) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.on('end', () =>
      resolve({ data: wireBytes <= cap ? Buffer.concat(chunks) : undefined, wireBytes }),
    );
    req.on('error', reject);
    // 'close' before 'end' means the client went away mid-upload.
    req.on('close', () => reject(new Error('request closed before its body was read')));
  });
}
