import { expect } from 'chai';
import { OursConfigError } from '../../src/errors';
import {
  fromChoices,
  parseBannerCookie,
  resolveConsent,
  withConsent,
  withGpc,
} from '../../src/request/consent';
import { isVisitorId } from '../../src/request/visitor-id';

describe('request/consent', () => {
  describe('parseBannerCookie (vanilla-cookieconsent v3)', () => {
    it('accepted categories are true; a category the banner knows but not accepted is false', () => {
      const cookie = JSON.stringify({
        categories: ['necessary', 'analytics'],
        revision: 0,
        services: { necessary: [], analytics: ['ga'], advertising: [] },
      });
      expect(parseBannerCookie(cookie)).to.deep.equal({
        advertising: 'false',
        necessary: 'true',
        analytics: 'true',
      });
    });

    it('infers nothing without services', () => {
      expect(parseBannerCookie('{"categories":["necessary"]}')).to.deep.equal({
        necessary: 'true',
      });
    });

    it('anything else is not parsed: undefined, never a guess', () => {
      for (const raw of [
        '',
        'yes',
        '{',
        '[]',
        'null',
        '{"level":["necessary"]}',
        '{"categories":"analytics"}',
        '{"categories":[1]}',
        '{"categories":[]}',
      ]) {
        expect(parseBannerCookie(raw), raw).to.equal(undefined);
      }
    });

    it('a __proto__ category is a plain key', () => {
      const consent = parseBannerCookie('{"categories":["__proto__"]}')!;
      expect(Object.getPrototypeOf(consent)).to.equal(Object.prototype);
      expect(Object.keys(consent)).to.deep.equal(['__proto__']);
    });
  });

  describe('fromChoices (the consent hook)', () => {
    it('booleans become the strings the contract wants; strings stay; the rest is left out', () => {
      expect(
        fromChoices({
          analytics: true,
          advertising: false,
          email: 'granted',
          x: undefined,
          y: null,
        }),
      ).to.deep.equal({ analytics: 'true', advertising: 'false', email: 'granted' });
    });

    it('never an empty map', () => {
      expect(fromChoices({})).to.equal(undefined);
      expect(fromChoices({ a: undefined })).to.equal(undefined);
      expect(fromChoices(undefined)).to.equal(undefined);
      expect(fromChoices(null)).to.equal(undefined);
      expect(fromChoices(['analytics'] as never)).to.equal(undefined);
    });
  });

  it("gpc: 'consent' denies advertising over anything stated", () => {
    expect(withGpc({ advertising: 'true', analytics: 'true' })).to.deep.equal({
      advertising: 'false',
      analytics: 'true',
    });
    expect(withGpc(undefined)).to.deep.equal({ advertising: 'false' });
  });

  it("withConsent puts the request's consent under userProperties; the call's own entries win", () => {
    expect(
      withConsent(
        { city: 'Oslo', consent: { analytics: 'false' } },
        { analytics: 'true', advertising: 'false' },
      ),
    ).to.deep.equal({
      city: 'Oslo',
      consent: { analytics: 'false', advertising: 'false' },
    });
    expect(withConsent(undefined, { analytics: 'true' })).to.deep.equal({
      consent: { analytics: 'true' },
    });
  });

  it('resolveConsent refuses what it cannot use, naming the option', () => {
    for (const bad of ['yes', { cookie: '' }, { cookie: 'a b' }, 42, null]) {
      expect(() => resolveConsent(bad as never)).to.throw(OursConfigError, /consent/);
    }
    expect(resolveConsent(undefined)).to.equal(undefined);
  });
});

describe('request/visitor-id: isVisitorId', () => {
  it('accepts the UUID v4 the browser SDK writes, in either case', () => {
    expect(isVisitorId('3b241101-e2bb-4255-8caf-4136c566a962')).to.equal(true);
    expect(isVisitorId('3B241101-E2BB-4255-8CAF-4136C566A962')).to.equal(true);
  });

  it('refuses anything else', () => {
    for (const id of [
      '',
      'v1',
      'visitor-123',
      '3b241101e2bb42558caf4136c566a962',
      '3b241101-e2bb-1255-8caf-4136c566a962',
      '3b241101-e2bb-4255-7caf-4136c566a962',
      ' 3b241101-e2bb-4255-8caf-4136c566a962',
      '3b241101-e2bb-4255-8caf-4136c566a962\n',
      'x'.repeat(5000),
    ]) {
      expect(isVisitorId(id), id).to.equal(false);
    }
  });
});
