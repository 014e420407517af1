import { loadConfig, loadDotEnv } from '../infra/config';
import { createPool } from '../infra/database';
import { rootLogger } from '../infra/logger';
import { seedDemoShop } from './seed-data';

/** `npm run seed`: loads the demo shop into DATABASE_URL (`npm start` seeds its own database itself). */
async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  if (!config.DATABASE_URL) throw new Error('DATABASE_URL is not set; `npm start` seeds the embedded database itself.');
  const pool = createPool({ connectionString: config.DATABASE_URL });
  try {
    const { aliceCouponId } = await seedDemoShop(pool);
    rootLogger().info({ aliceCouponId }, `demo shop seeded (alice's coupon: ${aliceCouponId})`);
  } finally {
    await pool.end();
  }
}

main().catch((error) => {
  rootLogger().fatal({ err: error }, error instanceof Error ? error.message : String(error));
  process.exit(1);
});
