import { readFileSync } from 'node:fs';

// The web client's own trusted document, so GraphiQL opens with exactly what the
// home page sends. operations/ sits at the package root, above src/ and dist/.
const webHomepage = readFileSync(
  new URL('../operations/web/Homepage.graphql', import.meta.url),
  'utf8',
);

/** The query GraphiQL opens with: the whole home page, with how to sign in. */
export const EXAMPLE_QUERY = `# The bookshop's home page: promo banners and recommendations, fetched in parallel.
#
# Anonymous visitors get popular picks. To see a user's own picks, print a token
#   npm run token -- u-42
# and add it in the Headers tab below:
#   { "Authorization": "Bearer <token>" }
#
${webHomepage}`;
