import { signToken } from '../auth.js';
import { loadConfig } from '../config.js';

// Prints a token for a user, signed with JWT_SECRET (the demo secret when unset):
//   npm run token -- u-42 [expiry, e.g. 1h]

const [userId, expiresIn = '12h'] = process.argv.slice(2);
if (!userId) {
  console.error('Usage: npm run token -- <userId> [expiry, e.g. 30m, 12h, 7d]');
  process.exit(2);
}
try {
  const { auth } = loadConfig();
  if (auth.secret === null)
    throw new Error('JWKS_URL is set: tokens come from your identity provider.');
  console.log(await signToken(auth.secret, userId, expiresIn));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
