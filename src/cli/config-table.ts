import { readFileSync, writeFileSync } from 'node:fs';
import { format } from 'prettier';
import { z } from 'zod';
import { ENV_SCHEMAS } from '../config.js';
import { UPSTREAMS } from '../upstreams/registry.js';
import { SERVICES, type ServiceName } from '../upstreams/services.js';

// Writes docs/configuration.md, the reference of every environment variable,
// from the schemas in src/config.ts: each variable's description, default and
// allowed values, grouped by topic. The page is generated whole, so a variable
// added to config.ts cannot be missing from it; `--check` (CI) fails when the
// committed page differs from what the schemas say.
//   npm run docs:config         (write)
//   npm run docs:config:check   (CI)

const PAGE = 'docs/configuration.md';

/** One documented variable (or one setting shared by every service, with each service's name). */
type Entry = { names: string[]; description: string; defaults: string[]; allowed: string };

/**
 * Topics, by variable name. A global variable goes to the first topic whose
 * pattern matches it, and to "Other" when none does, so a variable added on
 * any branch lands somewhere readable before someone files it properly.
 */
const TOPICS: Array<{ title: string; about: string; pattern: RegExp }> = [
  {
    title: 'Server and process',
    about: 'Listening, client sockets, shutdown, and what development mode turns on.',
    pattern:
      /^(PORT|HOST|NODE_ENV|GRAPHIQL|INTROSPECTION|HEADERS_TIMEOUT_MS|REQUEST_TIMEOUT_MS|KEEP_ALIVE_TIMEOUT_MS|DRAIN_DELAY_MS|SHUTDOWN_TIMEOUT_MS|HEAP_GROWTH_PERCENT)$/,
  },
  {
    title: 'Identity',
    about: 'How user tokens are verified.',
    pattern: /^(JWT|JWKS)_/,
  },
  {
    title: 'Query limits',
    about: 'What one request may ask for before anything executes.',
    pattern: /^(MAX_(DEPTH|ALIASES|DIRECTIVES|TOKENS|COST|BODY_BYTES)|BATCHING_LIMIT)$/,
  },
  {
    title: 'Persisted documents',
    about: 'Trusted-document manifests and automatic persisted queries.',
    pattern: /^(TRUSTED_DOCUMENTS|APQ_)/,
  },
  {
    title: 'Browsers and client teams',
    about: 'CORS, compression and client names.',
    pattern: /^(CORS_|COMPRESSION_|CLIENT_)/,
  },
  {
    title: 'Overload and admission',
    about: 'Load shedding before any work.',
    pattern: /^(MAX_IN_FLIGHT|ADMISSION)$/,
  },
  {
    title: 'Deadline, caches and fallbacks',
    about: 'How long a page may take, what is cached for how long, and what a failed field shows.',
    pattern:
      /^(REQUEST_DEADLINE_MS|PROMO_|CATALOG_|POPULAR_PICKS_|HOUSE_BANNERS_|RECOMMENDATIONS_)/,
  },
  {
    title: 'The anonymous page cache',
    about: 'Whole anonymous answers served in front of yoga, and purging the caches on demand.',
    pattern: /^(PAGE_CACHE_|ADMIN_TOKEN$)/,
  },
  {
    title: 'Redis',
    about: 'The shared second level for caches and rate limits across replicas.',
    pattern: /^REDIS_/,
  },
  {
    title: 'Rate limit and client address',
    about: 'Pages per viewer, and whose forwarded headers are believed.',
    pattern: /^(RATE_LIMIT_|TRUSTED_PROXIES$)/,
  },
  {
    title: 'Metrics, logs and tracing',
    about: 'What the gateway reports about itself.',
    pattern: /^(LOG_|SERVER_TIMING|METRICS|SCHEMA_USAGE|OTEL_)/,
  },
  {
    title: 'Upstream services',
    about:
      'One variable per service for each setting, each service with its own default (`src/upstreams/<service>/index.ts`).',
    // Filled per service below (`perService`): no global variable belongs here.
    pattern: /$^/,
  },
  {
    title: 'Demo services',
    about: 'The embedded demo services, started when no upstream URL is set.',
    pattern: /$^/, // filled per service below, as upstream services are
  },
];
const OTHER = { title: 'Other', about: 'Not yet filed under a topic.', pattern: /$^/ };

const byTopic = new Map<string, Entry[]>([...TOPICS, OTHER].map((topic) => [topic.title, []]));
const topicOf = (name: string) => (TOPICS.find((topic) => topic.pattern.test(name)) ?? OTHER).title;

for (const [name, entry] of documented(ENV_SCHEMAS.GlobalEnv)) {
  byTopic.get(topicOf(name))?.push({ ...entry, names: [name] });
}
// Per-service variables: one entry per setting, naming every service's variable.
const perService = (
  topic: string,
  prefix: (service: ServiceName) => string,
  schemaOf: (service: ServiceName) => z.ZodObject,
) => {
  const byService = SERVICES.map((service) => new Map(documented(schemaOf(service))));
  for (const [setting, first] of byService[0] ?? []) {
    const defaults = byService.map((settings) => settings.get(setting)?.defaults[0] ?? '');
    const distinct = new Set(defaults).size === 1;
    byTopic.get(topic)?.push({
      ...first,
      names: SERVICES.map((service) => `${prefix(service)}${setting}`),
      defaults: distinct
        ? [defaults[0] ?? '']
        : defaults.map((value, i) => `${value} (${SERVICES[i]})`),
    });
  }
};
perService(
  'Upstream services',
  (service) => `${service.toUpperCase()}_`,
  (service) => ENV_SCHEMAS.serviceEnv(UPSTREAMS[service].policy),
);
perService(
  'Demo services',
  (service) => `DEMO_${service.toUpperCase()}_`,
  () => ENV_SCHEMAS.DemoEnv,
);

const topics = [...TOPICS, OTHER].filter((topic) => (byTopic.get(topic.title) ?? []).length > 0);
const page = [
  '# Configuration',
  '<!-- Generated by `npm run docs:config` from src/config.ts: edit the descriptions there, not here. -->',
  'Every setting is an environment variable, read and validated in one place (`src/config.ts`): a bad value stops startup with a message naming the variable. An empty variable counts as unset. How these fit together in production is in [operating.md](operating.md).',
  topics
    .map(
      (topic) =>
        `- [${topic.title}](#${slug(topic.title)}): ${(byTopic.get(topic.title) ?? [])
          .map((entry) => `\`${entry.names[0] ?? ''}\``)
          .join(', ')}`,
    )
    .join('\n'),
  ...topics.flatMap((topic) => [
    `## ${topic.title}`,
    topic.about,
    ...(byTopic.get(topic.title) ?? []).flatMap((entry) => [
      `### ${entry.names.join(', ')}`,
      sentence(entry.description),
      [`- Default: ${entry.defaults.join(', ')}`, `- Allowed: ${entry.allowed}`].join('\n'),
    ]),
  ]),
].join('\n\n');

const prettier = JSON.parse(readFileSync('.prettierrc.json', 'utf8')) as object;
const generated = await format(page, { parser: 'markdown', ...prettier });
if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(PAGE, 'utf8');
  } catch {
    // missing: stale by definition
  }
  if (committed !== generated) {
    console.error(`${PAGE} is stale: run npm run docs:config and commit it`);
    process.exit(1);
  }
} else {
  writeFileSync(PAGE, generated);
}

// Private helpers.

/** Each variable of an object schema: its description, its default (from parsing nothing), what it accepts. */
function documented(schema: z.ZodObject): Array<[string, Omit<Entry, 'names'>]> {
  const defaults = schema.parse({}) as Record<string, unknown>;
  return Object.entries(schema.shape).map(([name, field]) => {
    const { description, unset } = (field as z.ZodType).meta() as {
      description: string;
      unset: string;
    };
    const value = defaults[name];
    return [
      name,
      {
        description,
        defaults: [value === undefined ? unset : `\`${String(value)}\``],
        allowed: allowedValues(field as z.ZodType),
      },
    ];
  });
}

/** What a variable accepts, read from its schema's JSON Schema (input side, before coercion). */
function allowedValues(field: z.ZodType): string {
  const json = z.toJSONSchema(field, { io: 'input', unrepresentable: 'any' }) as {
    type?: string;
    enum?: unknown[];
    minimum?: number;
    maximum?: number;
    minLength?: number;
    maxLength?: number;
    format?: string;
  };
  if (json.enum) return json.enum.map((value) => `\`${String(value)}\``).join(', ');
  if (json.type === 'integer' || json.type === 'number') {
    const integer = json.type === 'integer' ? 'an integer' : 'a number';
    return `${integer} from ${grouped(json.minimum)} to ${grouped(json.maximum)}`;
  }
  if (json.format === 'uri') return 'a URL';
  if (json.minLength !== undefined && json.maxLength !== undefined)
    return `text of ${json.minLength} to ${json.maxLength} characters`;
  if (json.minLength !== undefined && json.minLength > 1)
    return `text of at least ${json.minLength} characters`;
  return 'text';
}

/** 1048576 → 1 048 576, so a reader sees the magnitude at a glance. */
function grouped(value: number | undefined): string {
  return value === undefined ? 'any' : value.toLocaleString('en-US').replaceAll(',', ' ');
}

/** A description as a sentence: capital first letter, closing full stop. */
function sentence(text: string): string {
  const capital = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}
