/** The metric the gateway counts selections in (use-schema-usage.ts). */
import { FIELD_USAGE_METRIC } from '../observability/schema-field-counter.js';

/** Requests that selected a coordinate, from one client version, summed over every series. */
export type UsageSample = { coordinate: string; client: string; version: string; requests: number };

/** A usage file that is not what `--usage` expects. */
export class UsageFileError extends Error {
  override name = 'UsageFileError';
}

/**
 * Reads `bff_schema_field_requests_total` samples from the Prometheus text
 * format: a /metrics scrape, or a dump of Prometheus's `/federate` endpoint,
 * whose extra labels (instance, job, …) are summed over, so replicas add up.
 * Other metrics are skipped. A sample of ours that does not parse, or a file
 * with none at all (most likely the wrong file), is an error.
 */
export function parseUsage(text: string): UsageSample[] {
  const totals = new Map<string, UsageSample>();
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (!line.startsWith(`${FIELD_USAGE_METRIC}{`) && !line.startsWith(`${FIELD_USAGE_METRIC} `))
      continue;
    const sample = parseSample(line.slice(FIELD_USAGE_METRIC.length));
    if (typeof sample === 'string') throw new UsageFileError(`line ${index + 1}: ${sample}`);
    const { labels, value } = sample;
    const coordinate = labels.get('coordinate');
    if (coordinate === undefined) {
      throw new UsageFileError(`line ${index + 1}: a sample without a coordinate label`);
    }
    const client = labels.get('client') ?? 'none';
    const version = labels.get('client_version') ?? 'none';
    const key = `${coordinate}\u0000${client}\u0000${version}`;
    const total = totals.get(key) ?? { coordinate, client, version, requests: 0 };
    total.requests += value;
    totals.set(key, total);
  }
  if (totals.size === 0) {
    throw new UsageFileError(
      `no ${FIELD_USAGE_METRIC} samples (give a /metrics scrape of the gateway, or a /federate dump)`,
    );
  }
  return [...totals.values()];
}

// Private helpers.

/** `{a="b",c="d"} 12 [timestamp]`, with the text format's escapes (\\, \", \n) in values. */
function parseSample(rest: string): { labels: Map<string, string>; value: number } | string {
  const labels = new Map<string, string>();
  let at = 0;
  if (rest[at] === '{') {
    at++;
    while (rest[at] !== '}') {
      const name = /^\s*,?\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"/.exec(rest.slice(at));
      if (!name?.[1]) {
        if (/^\s*,?\s*}/.test(rest.slice(at))) {
          at = rest.indexOf('}', at);
          break;
        }
        return `cannot read the labels of ${FIELD_USAGE_METRIC}${rest}`;
      }
      at += name[0].length;
      let value = '';
      for (;;) {
        const char = rest[at++];
        if (char === undefined) return `unterminated label value in ${FIELD_USAGE_METRIC}${rest}`;
        if (char === '"') break;
        if (char === '\\') {
          const escaped = rest[at++];
          value += escaped === 'n' ? '\n' : (escaped ?? '');
        } else value += char;
      }
      labels.set(name[1], value);
    }
    at++;
  }
  const [value] = rest.slice(at).trim().split(/\s+/);
  const number = Number(value);
  if (value === undefined || value === '' || !Number.isFinite(number) || number < 0) {
    return `not a count: ${JSON.stringify(value ?? '')}`;
  }
  return { labels, value: number };
}
