import { loadConfig, loadDotEnv } from '../infra/config';
import { rootLogger } from '../infra/logger';
import { migrate } from '../infra/migrate';

/** `npm run migrate`: applies pending migrations to DATABASE_URL (an external database). */
async function main(): Promise<void> {
  loadDotEnv();
  const config = loadConfig();
  if (!config.DATABASE_URL) throw new Error('DATABASE_URL is not set; `npm start` migrates the embedded database itself.');
  const logger = rootLogger();
  const applied = await migrate(config.DATABASE_URL, (line) => logger.info(line));
  logger.info(applied.length ? `${applied.length} migration(s) applied` : 'database is up to date');
}

main().catch((error) => {
  rootLogger().fatal({ err: error }, error instanceof Error ? error.message : String(error));
  process.exit(1);
});
