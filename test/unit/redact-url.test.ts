import { expect } from 'chai';
import { CAMPAIGN_FIELDS } from '../../src/request/campaign';
import {
  REDACTED,
  REDACTED_KEY_PARTS,
  REDACTED_KEYS,
  redactUrl,
} from '../../src/request/redact-url';

const BASE = 'https://clinic.example/book';

describe('request/redact-url: redactUrl', () => {
  it("redacts OpenTelemetry's default keys, whatever their case", () => {
    const url = `${BASE}?sig=a&Signature=b&AWSAccessKeyId=c&X-Goog-Signature=d&page=2`;
    expect(redactUrl(url)).to.equal(
      `${BASE}?sig=REDACTED&Signature=REDACTED&AWSAccessKeyId=REDACTED&X-Goog-Signature=REDACTED&page=2`,
    );
  });

  for (const key of [...REDACTED_KEYS, ...REDACTED_KEY_PARTS]) {
    it(`redacts the value of "${key}" (and its upper-case form)`, () => {
      expect(redactUrl(`${BASE}?${key}=v1&q=x`)).to.equal(`${BASE}?${key}=${REDACTED}&q=x`);
      expect(redactUrl(`${BASE}?q=x&${key.toUpperCase()}=v1`)).to.equal(
        `${BASE}?q=x&${key.toUpperCase()}=${REDACTED}`,
      );
    });
  }

  it('matches keys with separators and inside longer names', () => {
    const url = `${BASE}?access_token=t&reset-password=p&user%5Bemail%5D=e&X-Amz-Credential=c&first_name=f&session_id=s&api_key=k&id_token=i`;
    const out = new URL(redactUrl(url)).searchParams;
    for (const key of [
      'access_token',
      'reset-password',
      'user[email]',
      'X-Amz-Credential',
      'first_name',
      'session_id',
      'api_key',
      'id_token',
    ]) {
      expect(out.get(key), key).to.equal(REDACTED);
    }
  });

  it('redacts any value that looks like an email address, encoded or not', () => {
    expect(redactUrl(`${BASE}?ref=ada%40example.com&q=ada@example.org&n=a@b`)).to.equal(
      `${BASE}?ref=REDACTED&q=REDACTED&n=a@b`,
    );
    expect(redactUrl(`${BASE}?q=contact+ada%40example.com+today`)).to.equal(`${BASE}?q=REDACTED`);
  });

  it('redacts email-like path segments, not the rest of the path', () => {
    expect(redactUrl('https://clinic.example/users/ada%40example.com/visits?x=1')).to.equal(
      'https://clinic.example/users/REDACTED/visits?x=1',
    );
    expect(redactUrl('/users/ada@example.com')).to.equal('/users/REDACTED');
  });

  it('never redacts campaign parameters, even with a sensitive-looking value', () => {
    const query = CAMPAIGN_FIELDS.map((k) => `${k}=ada%40example.com`).join('&');
    expect(redactUrl(`${BASE}?${query}`)).to.equal(`${BASE}?${query}`);
    expect(redactUrl(`${BASE}?UTM_NAME=spring&utm_term=key`)).to.equal(
      `${BASE}?UTM_NAME=spring&utm_term=key`,
    );
  });

  it('returns a URL without anything sensitive unchanged', () => {
    for (const url of [
      BASE,
      `${BASE}?utm_source=google&utm_medium=cpc&gclid=Cj0KCQ&page=2`,
      '/',
      '/a/b?',
      `${BASE}#section`,
    ]) {
      expect(redactUrl(url)).to.equal(url);
    }
  });

  it('redacts the fragment like a query (OAuth implicit flow), and keeps keys without a value', () => {
    expect(redactUrl(`${BASE}#access_token=abc&state=xyz&tab=1`)).to.equal(
      `${BASE}#access_token=REDACTED&state=REDACTED&tab=1`,
    );
    expect(redactUrl(`${BASE}?token&token=&code=1`)).to.equal(`${BASE}?token&token=&code=REDACTED`);
  });

  it('takes extra keys, compared like the defaults', () => {
    expect(redactUrl(`${BASE}?Patient-Ref=42&visit=7&q=1`, ['patient_ref', 'VISIT'])).to.equal(
      `${BASE}?Patient-Ref=REDACTED&visit=REDACTED&q=1`,
    );
  });

  it('survives malformed escapes; splits pairs on & as URLSearchParams does', () => {
    expect(redactUrl(`${BASE}?%E0%A4=1&token=%E0%A4&a=b=c&&=x&code=9`)).to.equal(
      `${BASE}?%E0%A4=1&token=REDACTED&a=b=c&&=x&code=REDACTED`,
    );
  });

  it('redacts sensitive matrix parameters of the path (Java session ids)', () => {
    expect(redactUrl('https://shop.example/cart;jsessionid=ABC123;view=full?x=1')).to.equal(
      'https://shop.example/cart;jsessionid=REDACTED;view=full?x=1',
    );
  });

  it('stays linear on a long query of pairs without values', () => {
    const url = `${BASE}?${'a&'.repeat(50_000)}token=1`;
    const started = performance.now();
    expect(redactUrl(url).endsWith('token=REDACTED')).to.equal(true);
    expect(performance.now() - started).to.be.below(1000);
  });
});
