import { issueToken, ROLES, type Role } from '../api/auth';
import { apiSettingsFromConfig } from '../api/settings';
import { loadConfig, loadDotEnv } from '../infra/config';

/** `npm run token -- <role> <subject>`: a bearer token for trying the API (signed with JWT_SECRET). */
loadDotEnv();
const [role = 'customer', subject = 'mem_alice'] = process.argv.slice(2);
if (!ROLES.includes(role as Role)) {
  console.error(`role must be one of ${ROLES.join(', ')}`);
  process.exit(1);
}
const settings = apiSettingsFromConfig(loadConfig());
console.log(issueToken(settings.auth.jwtSecret, { role: role as Role, subject }));
