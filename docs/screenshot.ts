// Takes docs/graphiql-defer.png: GraphiQL showing a deferred homepage whose promo
// has arrived while the (deliberately slow) recommendations are still on their way.
//   npm run docs:screenshot     (needs Debian's chromium)
import { createServer } from 'node:http';
import { chromium } from 'playwright-core';
import { createGateway } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { startDemoServices } from '../src/demo/services.js';
import { silentLogger } from '../src/logger.js';
import { listen } from '../bench/lib.js';

const QUERY = `# Promo first, recommendations when ready (@defer).
query DeferredHomepage {
  homepage {
    promo { id title }
    ... @defer(label: "picks") {
      recommendations(limit: 3) { score book { title } }
    }
  }
}
`;

const config = loadConfig({ RECOMMENDATIONS_TIMEOUT_MS: '5000', REQUEST_DEADLINE_MS: '8000' });
const demo = await startDemoServices({
  ...config.demo,
  recommendations: { latencyMs: 3000, fault: 'none' },
});
const server = createServer(
  createGateway({ ...config, upstreamUrls: demo.urls, logger: silentLogger }),
);
const base = await listen(server);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 640 } });
  await page.goto(`${base}/graphql?query=${encodeURIComponent(QUERY)}`);
  await page.locator('.graphiql-execute-button').click({ timeout: 20_000 });
  await page
    .locator('.graphiql-response')
    .getByText('promo-winter-reads')
    .waitFor({ timeout: 10_000 });
  await page.screenshot({ path: 'docs/graphiql-defer.png' });
  console.log('wrote docs/graphiql-defer.png');
} finally {
  await browser.close();
  server.closeAllConnections();
  server.close();
  await demo.close();
}
