import type { Client } from '@temporalio/client';
import express, { type Express } from 'express';
import type { Pool } from 'pg';
import { healthRouter } from './health';
import { docsPage, openApiDocument } from './openapi';
import { errorHandler, notFoundHandler } from './problem';

export interface ApiDeps {
  pool: Pool;
  temporal: Client;
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

  app.use(notFoundHandler);
  app.use(errorHandler(log));
  return app;
}
