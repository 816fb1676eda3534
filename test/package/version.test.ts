import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { version } from '../../src/index';
import { USER_AGENT } from '../../src/client/post-events';

describe('package metadata', () => {
  const pkg = JSON.parse(readFileSync(require.resolve('../../package.json'), 'utf8'));

  it('src/version.ts matches package.json, and requests name it', () => {
    expect(version).to.equal(pkg.version);
    expect(USER_AGENT).to.match(
      new RegExp(`^ours-middleware/${pkg.version.replace(/\./g, '\\.')} node/`),
    );
  });

  it('keeps ua-parser-js on the MIT 1.x line (2.x is AGPL)', () => {
    expect(pkg.dependencies['ua-parser-js']).to.match(/^[~^]?1\./);
    const lock = JSON.parse(readFileSync(require.resolve('../../package-lock.json'), 'utf8'));
    expect(lock.packages['node_modules/ua-parser-js'].version).to.match(/^1\./);
  });

  it('keeps express, koa, fastify and hono as optional peers, never bundled', () => {
    expect(pkg.dependencies).not.to.have.any.keys(
      'express',
      'koa',
      'fastify',
      'fastify-plugin',
      'hono',
    );
    expect(pkg.peerDependencies).to.include.keys('express', 'koa', 'fastify', 'hono');
    expect(pkg.peerDependenciesMeta.fastify).to.deep.equal({ optional: true });
    expect(pkg.peerDependenciesMeta.hono).to.deep.equal({ optional: true });
  });
});
