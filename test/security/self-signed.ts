import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A self-signed certificate that is right for 127.0.0.1 in every way but
 * trust, as `key.pem` and `cert.pem` in a new temporary directory (the
 * caller removes it). Undefined when openssl is not installed.
 */
export function selfSignedCert(): { dir: string; keyPath: string; certPath: string } | undefined {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    console.log(
      '      (skipped: openssl is not installed, so no self-signed certificate can be made)',
    );
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'ours-tls-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath]
      .concat(['-days', '1', '-subj', '/CN=127.0.0.1'])
      .concat(['-addext', 'subjectAltName=IP:127.0.0.1']),
    { stdio: 'ignore' },
  );
  return { dir, keyPath, certPath };
}
