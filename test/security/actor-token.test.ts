import jwt from 'jsonwebtoken';
import { createSecurityActivities } from '../../activities/security';
import { customerAuth, staffAuth, TEST_AUTH, TEST_JWT_SECRET } from '../support/api';

/** The activity an ops signal's workflow calls to learn who really sent it (issue 11: verified actors in messages). */
const { verifyActorToken } = createSecurityActivities({ auth: TEST_AUTH });
const bare = (authorization: string) => authorization.replace(/^Bearer /, '');

test('a support agent token is verified into its actor', async () => {
  expect(await verifyActorToken({ token: bare(staffAuth('support', 'agent_li')) })).toEqual({ actor: 'support:agent_li', role: 'support', subject: 'agent_li' });
});

test.each([
  ['no token', undefined],
  ['a token forged with the customer key', jwt.sign({ role: 'admin', iss: 'order-engine', aud: 'order-engine-api' }, TEST_JWT_SECRET, { subject: 'ops_mallory', expiresIn: 600 })],
  ['a customer token', bare(customerAuth('mem_x'))],
  ['a carrier token', bare(staffAuth('carrier', 'sf'))],
  ['garbage', 'ops:li'],
])('%s is refused, non-retryable INVALID_ACTOR', async (_name, token) => {
  await expect(verifyActorToken({ token })).rejects.toMatchObject({ type: 'INVALID_ACTOR', nonRetryable: true });
});
