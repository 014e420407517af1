import type * as SandboxModule from '../modules/finance/sandbox';

/**
 * The one door to the development tools. The sandbox payment provider takes no money and lets anyone
 * mark an order paid, so the production build leaves `modules/finance/sandbox` out of dist/ altogether
 * (scripts/build.mjs), and nothing in production code imports it except through here: the path is
 * computed, so the compiled code holds no static require of it, and production never asks.
 * Tests and `npm start` (tsx) load it from source.
 */
export const SANDBOX_MODULE_PATH = ['..', 'modules', 'finance', 'sandbox'].join('/');

export function loadSandboxModule(context: { production?: boolean }): typeof SandboxModule {
  if (context.production) {
    throw new Error('The sandbox payment provider is a development tool: it is not part of the production build');
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deliberately dynamic, see above
  return require(SANDBOX_MODULE_PATH) as typeof SandboxModule;
}
