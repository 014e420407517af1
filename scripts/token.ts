import { issueToken, ROLES, type Role } from '../api/auth';
import { apiSettingsFromConfig } from '../api/settings';
import { loadConfig, loadDotEnv } from '../infra/config';

/**
 * `npm run token -- <role> <subject> [warehouse ids, e.g. wh_shanghai+wh_beijing or *]`: a bearer token
 * for trying the API, valid 12 hours, signed with JWT_SECRET (customers) or JWT_STAFF_SECRET (staff).
 */
loadDotEnv();
const [role = 'customer', subject = 'mem_alice', warehouses = '*'] = process.argv.slice(2);
if (!ROLES.includes(role as Role)) {
  console.error(`role must be one of ${ROLES.join(', ')}`);
  process.exit(1);
}
const settings = apiSettingsFromConfig(loadConfig());
const warehouseIds = role === 'warehouse' ? warehouses.split('+') : undefined;
console.log(issueToken(settings.auth, { role: role as Role, subject, warehouseIds }));
