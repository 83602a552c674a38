import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { Promotion } from '../upstreams/promo/schema.js';

const HouseBanners = z.array(Promotion).min(1);

/**
 * Reads the house banners (HOUSE_BANNERS_FILE), validated like promo's own
 * payload; throws with a message that names the file and where it is wrong.
 */
export function readHouseBanners(path: string): Promotion[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read ${path} as JSON (${(error as Error).message})`);
  }
  const parsed = HouseBanners.safeParse(json);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join('.') ?? '';
    throw new Error(`${path} is not a non-empty list of promotions (at ${where || 'the top'})`);
  }
  return parsed.data;
}
