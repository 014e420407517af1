import pino from 'pino';
import { issueToken, ROLES, type Role } from '../api/auth';
import { apiSettingsFromConfig } from '../api/settings';
import { loadConfig, loadDotEnv } from '../infra/config';
import { createLogger, loggerSettingsFromEnv } from '../infra/logger';

/** `npm run token -- <role> <subject>`: a bearer token for trying the API (signed with JWT_SECRET). */
loadDotEnv();
// stdout is the token (`TOKEN=$(npm run -s token)`): messages go to stderr.
const logger = createLogger({ ...loggerSettingsFromEnv(), destination: pino.destination(2) });
const [role = 'customer', subject = 'mem_alice'] = process.argv.slice(2);
if (!ROLES.includes(role as Role)) {
  logger.error(`role must be one of ${ROLES.join(', ')}`);
  process.exit(1);
}
const settings = apiSettingsFromConfig(loadConfig());
process.stdout.write(`${issueToken(settings.auth.jwtSecret, { role: role as Role, subject })}\n`);
