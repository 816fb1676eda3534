/**
 * Type test, compiled by `tsc -p tsconfig.json` (not run): the privacy
 * options and `optOut()` as users write them, on both adapters.
 */
import express from 'express';
import Koa from 'koa';
import { ours as oursExpress } from '../../adapters/express';
import { ours as oursKoa } from '../../adapters/koa';
import { redactUrl, REDACTED } from '../../src/index';

const app = express();
app.use(
  oursExpress({
    token: 't',
    redact: {
      keys: ['patient_ref'],
      pathname: (path, req) => (req.route ? req.baseUrl + String(req.route.path) : path),
    },
  }),
);
app.use(
  oursExpress({
    token: 't',
    redact: (url, req) => redactUrl(url, req.path.startsWith('/clinic') ? ['visit'] : []),
  }),
);
app.use(
  oursExpress({
    token: 't',
    redact: false,
    consent: (req) => ({ analytics: true, ads: req.get('x-ads') ?? null }),
  }),
);
app.use(oursExpress({ token: 't', consent: 'cookie', gpc: 'consent' }));
app.post('/opt-out', (req, res) => {
  req.ours.optOut();
  res.sendStatus(204);
});
const marker: string = REDACTED;
void marker;

// @ts-expect-error redact: true is not a setting (the defaults are on already)
oursExpress({ token: 't', redact: true });
// @ts-expect-error consent values are booleans or strings
oursExpress({ token: 't', consent: () => ({ analytics: 1 }) });
// @ts-expect-error an unknown gpc mode
oursExpress({ token: 't', gpc: 'deny' });

const koa = new Koa();
koa.use(
  oursKoa({
    token: 't',
    consent: { cookie: 'site_consent' },
    redact: { pathname: (path, ctx) => (ctx.state['route'] as string | undefined) ?? path },
  }),
);
koa.use((ctx) => {
  ctx.ours.optOut();
});
