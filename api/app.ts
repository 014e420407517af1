import type { Client } from '@temporalio/client';
import express, { type Express } from 'express';
import type { Pool } from 'pg';
import { authenticate } from './auth';
import { healthRouter } from './health';
import { ordersRouter } from './orders';
import type { ApiSettings } from './settings';
import { warehouseRouter } from './warehouse';
import { docsPage, openApiDocument } from './openapi';
import { errorHandler, notFoundHandler } from './problem';

export interface ApiDeps {
  pool: Pool;
  temporal: Client;
  settings: ApiSettings;
  log?: (line: string) => void;
}

/** The HTTP API as an express app (no listening): `api/main.ts` serves it, tests call it with supertest. */
export function createApp(deps: ApiDeps): Express {
  const log = deps.log ?? console.error;
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '256kb' }));

  app.use(healthRouter(deps));
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  app.get('/docs', (_req, res) => {
    res.type('html').send(docsPage);
  });

  // Everything below needs a caller: a bearer token or an API key.
  app.use(authenticate(deps.settings.auth));
  app.use(ordersRouter(deps));
  app.use(warehouseRouter(deps));

  app.use(notFoundHandler);
  app.use(errorHandler(log));
  return app;
}
