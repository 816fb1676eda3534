/**
 * NestJS on Express or on Fastify, with ours-middleware mounted the
 * platform's own way, and a two-line `@Ours()` parameter decorator: the
 * recipe of docs/frameworks.md, run by test/examples/nest.test.ts.
 *
 * Compiled with its own tsconfig.json (Nest needs `experimentalDecorators`).
 * No constructor injection: tsx (esbuild) does not emit decorator metadata.
 */
import 'reflect-metadata';
import {
  Controller,
  Get,
  HttpException,
  Module,
  Req,
  createParamDecorator,
  type ExecutionContext,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
// In your app: 'ours-middleware/express' and 'ours-middleware/fastify'.
import { ours as oursExpress, type RequestTracker } from '../../adapters/express';
import { ours as oursFastify } from '../../adapters/fastify';
import type { OursClient } from '../../src/index';

/** The request's tracker, on either platform: `@Ours() ours: RequestTracker`. */
export const Ours = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext) =>
    ctx.switchToHttp().getRequest<{ ours: RequestTracker }>().ours,
);

@Controller()
class ShopController {
  @Get('/')
  home(@Ours() ours: RequestTracker): { ok: boolean } {
    ours.track('Page Viewed');
    return { ok: true };
  }

  /** The platform's request works too (Express `req.ours`, Fastify `request.ours`). */
  @Get('/pricing')
  pricing(@Req() req: { ours: RequestTracker }): string {
    req.ours.track('Pricing Viewed', { plan: 'pro' });
    return 'pricing';
  }

  /** An exception filter answers; the event tracked before the throw is still sent. */
  @Get('/sold-out')
  soldOut(@Ours() ours: RequestTracker): never {
    ours.track('Sold Out Seen');
    throw new HttpException('sold out', 409);
  }

  @Get('/health')
  health(@Ours() ours: RequestTracker): string {
    ours.track('Health Checked'); // skipped by the `skip` option below
    return 'ok';
  }
}

@Module({ controllers: [ShopController] })
class ShopModule {}

const skip = (req: { url?: string | undefined }): boolean => req.url === '/health';

/** The Nest app on `platform`, tracking through `client` (yours to shut down after `app.close()`). */
export async function createNestApp(
  platform: 'express' | 'fastify',
  client: OursClient,
): Promise<INestApplication> {
  if (platform === 'express') {
    const app = await NestFactory.create<NestExpressApplication>(ShopModule, new ExpressAdapter(), {
      logger: false,
    });
    app.use(oursExpress({ client, skip })); // before app.init()/listen(): ahead of every route
    return app;
  }
  const app = await NestFactory.create<NestFastifyApplication>(ShopModule, new FastifyAdapter(), {
    logger: false,
  });
  await app.register(oursFastify, { client, skip: (request) => skip(request.raw) });
  return app;
}
