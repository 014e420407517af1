import path from 'node:path';
import express, { Router } from 'express';
import type { Pool } from 'pg';
import { dayOf, liveSnapshot, type LiveSnapshot } from '../../modules/reports';
import { authenticate, requireRole, type AuthSettings } from '../auth';
import { LiveFeed } from './feed';

/**
 * The wall screen (大屏) at /dashboard: a static page (no data in it, so it is public) and its
 * assets (ECharts from node_modules, no CDN), and /dashboard/stream, the Server-Sent Events every
 * screen listens to (merchant or admin). One feed per process, shared by all screens.
 */
export interface DashboardOptions {
  pool: Pool;
  auth: AuthSettings;
  timeZone: string;
  /** How often the shared snapshot is read while screens listen (ms). */
  intervalMs?: number;
  log: (line: string) => void;
}

const PUBLIC = path.join(__dirname, 'public');
const ECHARTS = path.dirname(require.resolve('echarts/dist/echarts.min.js'));
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

export function dashboardRouter(options: DashboardOptions): { router: Router; feed: LiveFeed<LiveSnapshot> } {
  const router = Router();
  const feed = new LiveFeed(() => liveSnapshot(options.pool, dayOf(new Date(), options.timeZone), options.timeZone), options.intervalMs ?? 500, options.log);
  router.get('/dashboard', (_req, res) => {
    res.setHeader('Content-Security-Policy', CSP);
    res.sendFile(path.join(PUBLIC, 'index.html'));
  });
  router.use('/dashboard/assets', express.static(PUBLIC, { index: false, maxAge: '1h' }));
  router.use('/dashboard/assets', express.static(ECHARTS, { index: false, maxAge: '1d' }));
  router.get('/dashboard/stream', authenticate(options.auth), requireRole('merchant'), (_req, res) => feed.subscribe(res));
  return { router, feed };
}
