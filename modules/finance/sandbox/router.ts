import express, { type NextFunction, type Request, type RequestHandler, type Response, Router } from 'express';
import { z, ZodError } from 'zod';
import { DomainError } from '../../shared/errors';
import type { SandboxProvider } from './provider';

const rangeSchema = z.object({ from: z.coerce.date(), to: z.coerce.date() });

export interface SandboxRouterOptions {
  /**
   * Run before the control endpoints (scripted misbehaviour, the transaction list), e.g. authenticate
   * + requireRole('admin'): whoever reaches them can fail every payment or read every transaction.
   * The pay page stays open, as a real provider's pay page is.
   */
  guardControl: RequestHandler[];
}

/**
 * The sandbox's own HTTP face, as an external provider would have one: the buyer's payment page
 * (pay), scripted misbehaviour, and its transaction list. Mount it where the sandbox should live,
 * never in production (api/app.ts refuses to).
 */
export function createSandboxRouter(sandbox: SandboxProvider, options: SandboxRouterOptions): Router {
  const router = Router();
  router.use(express.json({ limit: '64kb' }));
  router.use(['/sandbox/behaviour', '/sandbox/transactions'], ...options.guardControl);

  router.post('/sandbox/intents/:id/pay', handle(async (req, res) => {
    res.json(await sandbox.pay(String(req.params.id)));
  }));

  router.get('/sandbox/intents/:id', handle(async (req, res) => {
    res.json(await sandbox.getIntent(String(req.params.id)));
  }));

  router.post('/sandbox/behaviour', handle(async (req, res) => {
    res.status(201).json(await sandbox.addBehaviour(req.body ?? {}));
  }));

  router.delete('/sandbox/behaviour', handle(async (_req, res) => {
    await sandbox.clearBehaviours();
    res.status(204).end();
  }));

  router.get('/sandbox/transactions', handle(async (req, res) => {
    res.json(await sandbox.listTransactions(rangeSchema.parse(req.query)));
  }));

  return router;
}

function handle(route: (req: Request, res: Response) => Promise<void>) {
  return (req: Request, res: Response, next: NextFunction) => {
    route(req, res).catch((error: unknown) => {
      if (error instanceof ZodError) {
        res.status(400).json({ error: 'INVALID_REQUEST', issues: error.issues });
      } else if (error instanceof DomainError) {
        res.status(error.code === 'PROVIDER_INTENT_NOT_FOUND' ? 404 : 409).json({ error: error.code, message: error.message });
      } else {
        next(error);
      }
    });
  };
}
