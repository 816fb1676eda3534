import { expect } from 'chai';
import { defaultPropertiesSchema } from '../../src/contract/schema';
import type { DefaultProperties } from '../../src/contract/types';
import {
  assignCampaign,
  CAMPAIGN_FIELDS,
  MAX_QUERY_LENGTH,
  parseCampaign,
} from '../../src/request/campaign';

describe('request/campaign: parseCampaign', () => {
  const protoKeys = () => Object.getOwnPropertyNames(Object.prototype).sort();
  const before = protoKeys();
  afterEach(() => {
    expect(({} as Record<string, unknown>)['polluted']).to.equal(undefined);
    expect(protoKeys()).to.deep.equal(before);
  });

  it('reads campaign parameters from a raw request target', () => {
    const r = parseCampaign('/p?utm_source=news&utm_medium=email&gclid=Cj0KCQ&other=1');
    expect(r).to.deep.equal({
      params: { utm_source: 'news', utm_medium: 'email', gclid: 'Cj0KCQ' },
    });
  });

  it('matches keys case-insensitively but keeps values exactly (fbclid is case-sensitive)', () => {
    const r = parseCampaign('/?UTM_Source=News&FBCLID=IwAR0AbC_dEf');
    expect(r.params).to.deep.equal({ utm_source: 'News', fbclid: 'IwAR0AbC_dEf' });
  });

  it('lets the first value of a repeated key win (in any letter case)', () => {
    expect(parseCampaign('/?utm_source=a&utm_source=b&UTM_SOURCE=c').params.utm_source).to.equal(
      'a',
    );
    expect(parseCampaign('/?utm_source=&utm_source=b').params.utm_source).to.equal('b');
    expect(parseCampaign('/?utm_source&utm_source=').params).to.deep.equal({});
  });

  it('decodes like URLSearchParams: + is a space, percent escapes, encoded keys', () => {
    const r = parseCampaign('/?utm_campaign=spring+sale%20%E2%9C%93&utm%5Fterm=a%26b%3Dc');
    expect(r.params).to.deep.equal({ utm_campaign: 'spring sale ✓', utm_term: 'a&b=c' });
  });

  it('keeps the raw value of a broken percent-escape and never throws', () => {
    const r = parseCampaign('/?utm_source=%E0%A4&utm_medium=100%&utm_term=ok%2');
    expect(r.params).to.deep.equal({ utm_source: '%E0%A4', utm_medium: '100%', utm_term: 'ok%2' });
    expect(parseCampaign('/?%E0%A4=1&utm_source=x').params).to.deep.equal({ utm_source: 'x' });
  });

  it('sends li_did as clickid only when clickid is absent', () => {
    expect(parseCampaign('/?li_did=L1').params).to.deep.equal({ clickid: 'L1' });
    expect(parseCampaign('/?li_did=L1&clickid=C1').params).to.deep.equal({ clickid: 'C1' });
    expect(parseCampaign('/?LI_DID=L1').params).to.not.have.property('li_did');
  });

  it('reads ours_user_id (the cross-domain hand-off) outside params', () => {
    const r = parseCampaign('/?ours_user_id=3b241101-e2bb-4255-8caf-4136c566a962&utm_source=x');
    expect(r.userId).to.equal('3b241101-e2bb-4255-8caf-4136c566a962');
    expect(r.params).to.deep.equal({ utm_source: 'x' });
  });

  it('ignores __proto__, constructor and bracket keys and pollutes nothing', () => {
    const r = parseCampaign(
      '/?__proto__[polluted]=1&__proto__=x&constructor=y&constructor[prototype][polluted]=1&utm_source=s',
    );
    expect(r.params).to.deep.equal({ utm_source: 's' });
    expect(Object.getPrototypeOf(r.params)).to.equal(Object.prototype);
  });

  it('handles no query, an empty query, a fragment and non-string input', () => {
    expect(parseCampaign('/p')).to.deep.equal({ params: {} });
    expect(parseCampaign('/p?')).to.deep.equal({ params: {} });
    expect(parseCampaign('/p?utm_source=a#utm_medium=b').params).to.deep.equal({ utm_source: 'a' });
    expect(parseCampaign(undefined)).to.deep.equal({ params: {} });
    expect(parseCampaign(['/p?utm_source=a'])).to.deep.equal({ params: {} });
  });

  it('caps the query at 8 KiB without reading a half-cut value', () => {
    const pad = 'pad=' + 'x'.repeat(MAX_QUERY_LENGTH - 30);
    const url = `/p?utm_source=early&${pad}&utm_medium=${'m'.repeat(100)}&utm_term=late`;
    expect(url.length).to.be.greaterThan(MAX_QUERY_LENGTH);
    expect(parseCampaign(url).params).to.deep.equal({ utm_source: 'early' });
  });

  it('stays fast on a 10 kB query of unrelated long keys', () => {
    const url = '/?' + Array.from({ length: 100 }, (_, i) => `${'k'.repeat(90)}${i}=v`).join('&');
    const start = process.hrtime.bigint();
    for (let i = 0; i < 100; i++) parseCampaign(url);
    expect(Number(process.hrtime.bigint() - start) / 1e6).to.be.lessThan(200);
  });
});

describe('request/campaign: contract fields', () => {
  const props = defaultPropertiesSchema.properties!;

  it('lists only fields of DefaultProperties (li_did is not one)', () => {
    for (const field of CAMPAIGN_FIELDS) expect(props, field).to.have.property(field);
    expect(props).not.to.have.property('li_did');
    expect(props).not.to.have.property('ours_user_id');
  });

  it('assignCampaign copies every listed field through fit', () => {
    const params = Object.fromEntries(CAMPAIGN_FIELDS.map((f) => [f, `v-${f}`]));
    const into: DefaultProperties = { host: 'kept' };
    assignCampaign(into, params, (field, value) => `${value}!${field.length}`);
    const expected = Object.fromEntries(CAMPAIGN_FIELDS.map((f) => [f, `v-${f}!${f.length}`]));
    expect(into).to.deep.equal({ host: 'kept', ...expected });
  });
});
