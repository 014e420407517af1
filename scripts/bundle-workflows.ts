import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../workers/worker';

/**
 * `node dist/scripts/bundle-workflows.js <file>`: bundles the workflow code once at image build, so a
 * production worker starts from the bundle (WORKFLOW_BUNDLE) instead of running webpack at every start.
 */
async function main(): Promise<void> {
  const target = path.resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, code);
  console.log(`workflow bundle: ${target} (${Math.round(code.length / 1024)} KiB)`);
}

main().catch((error) => {
  console.error(`bundling failed: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
