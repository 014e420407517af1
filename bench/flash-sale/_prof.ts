import { spawn } from 'node:child_process';
import path from 'node:path';
import { Pool } from 'pg';
import { issueToken } from '../../api/auth';
import { migrate } from '../../infra/migrate';
import { startEmbeddedPostgres } from '../../infra/postgres';
import { createFlashSaleService } from '../../modules/flash-sale';
import { BENCH_JWT_SECRET } from './shared';
const autocannon = require('autocannon');
async function main() {
  const pg = await startEmbeddedPostgres({ dataDir: '/tmp/fsb/pg', port: 55991, databaseName: 'b', persistent: false });
  await migrate(pg.databaseUrl);
  const pool = new Pool({ connectionString: pg.databaseUrl });
  await createFlashSaleService({ pool }).openCampaign({ campaignId: 'c', skuId: 's', flashPriceFen: 1, cap: 0, perUserLimit: 2, limitUnit: 'UNITS', startsAt: new Date(Date.now() - 1000), endsAt: new Date(Date.now() + 3600_000) });
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'server.ts'), process.argv[2], pg.databaseUrl], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((r) => child.stdout!.on('data', (d: Buffer) => { const m = /listening (\d+)/.exec(d.toString()); if (m) r(Number(m[1])); }));
  const tokens = Array.from({ length: 500 }, (_, i) => `Bearer ${issueToken(BENCH_JWT_SECRET, { role: 'customer', subject: `b${i}` })}`);
  let n = 0;
  const res = await autocannon({ url: `http://127.0.0.1:${port}/flash-sales/c/orders`, connections: 100, amount: 30000, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"quantity":1}',
    requests: [{ setupRequest: (r: any) => { r.headers = { ...r.headers, authorization: tokens[n++ % tokens.length] }; return r; } }] });
  console.log(res.requests.average, res.latency.p99, res.statusCodeStats);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await pool.end(); await pg.stop();
}
main();
