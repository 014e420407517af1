import pino from 'pino';
import { issueToken, ROLES, type Role } from '../api/auth';
import { apiSettingsFromConfig } from '../api/settings';
import { loadConfig, loadDotEnv } from '../infra/config';
import { createLogger, loggerSettingsFromEnv } from '../infra/logger';

/**
 * `npm run token -- <role> <subject> [warehouse ids, e.g. wh_shanghai+wh_beijing or *]`: a bearer token
 * for trying the API, valid 12 hours, signed with JWT_SECRET (customers) or JWT_STAFF_SECRET (staff).
 */
loadDotEnv();
// stdout is the token (`TOKEN=$(npm run -s token)`): messages go to stderr.
const logger = createLogger({ ...loggerSettingsFromEnv(), destination: pino.destination(2) });
const [role = 'customer', subject = 'mem_alice', warehouses = '*'] = process.argv.slice(2);
if (!ROLES.includes(role as Role)) {
  logger.error(`role must be one of ${ROLES.join(', ')}`);
  process.exit(1);
}
const settings = apiSettingsFromConfig(loadConfig());
const warehouseIds = role === 'warehouse' ? warehouses.split('+') : undefined;
process.stdout.write(`${issueToken(settings.auth, { role: role as Role, subject, warehouseIds })}\n`);
