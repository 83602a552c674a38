// Demo data: a few hundred plausible books, a handful of promotions and per-user
// picks. Generated from a fixed seed, so every run (and every test) sees the same shop.

export type DemoBook = {
  id: string;
  title: string;
  authors: string[];
  price: { amount: number; currency: string };
  coverUrl: string | null;
  genre: string;
};

export type DemoPromotion = {
  id: string;
  title: string;
  imageUrl: string;
  link: string;
  bookId: string | null;
  startsAt: string | null;
  endsAt: string | null;
};

export type DemoPick = { bookId: string; score: number; reason: string | null };

const BOOK_COUNT = 300;

const FIRST_NAMES = [
  'Ada',
  'Amara',
  'Ben',
  'Carmen',
  'Chidi',
  'Clara',
  'Dmitri',
  'Elena',
  'Emeka',
  'Farah',
  'Grace',
  'Hiro',
  'Ines',
  'Jonah',
  'Kavya',
  'Leila',
  'Lucas',
  'Maya',
  'Nikolai',
  'Noor',
  'Oskar',
  'Priya',
  'Rafael',
  'Sofia',
  'Tomás',
  'Yara',
  'Zadie',
  'Ingrid',
  'Mateo',
  'Hana',
];
const LAST_NAMES = [
  'Adeyemi',
  'Bergström',
  'Castillo',
  'Dubois',
  'Eriksen',
  'Fischer',
  'García',
  'Haddad',
  'Ishikawa',
  'Jensen',
  'Kowalski',
  'Lindqvist',
  'Moreau',
  'Nakamura',
  'Okafor',
  'Petrova',
  'Quinn',
  'Rossi',
  'Santos',
  'Tanaka',
  'Umarov',
  'Varga',
  'Whitfield',
  'Novak',
  'Achebe',
  'Hartmann',
  'Sørensen',
  'Mbeki',
  'Delacroix',
  'Ferreira',
];
const ADJECTIVES = [
  'Silent',
  'Last',
  'Hidden',
  'Burning',
  'Glass',
  'Northern',
  'Forgotten',
  'Quiet',
  'Crimson',
  'Distant',
  'Paper',
  'Winter',
  'Golden',
  'Broken',
  'Midnight',
  'Salt',
  'Iron',
  'Wandering',
  'Borrowed',
  'Second',
];
const NOUNS = [
  'Garden',
  'Orchard',
  'Lighthouse',
  'Cartographer',
  'Harbour',
  'Library',
  'River',
  'Archive',
  'Inheritance',
  'Machine',
  'Season',
  'Kingdom',
  'Observatory',
  'Ferryman',
  'Atlas',
  'Tide',
  'Bookbinder',
  'Frontier',
  'Orchestra',
  'Summer',
];
const PLACES = [
  'Lisbon',
  'the North Sea',
  'Kyoto',
  'the Steppe',
  'Marrakesh',
  'the Lost Coast',
  'Tallinn',
  'Valparaíso',
  'the Hebrides',
  'Samarkand',
];
const GENRES = [
  'Literary Fiction',
  'Science Fiction',
  'Fantasy',
  'Crime',
  'History',
  'Biography',
  'Science',
  'Poetry',
  'Travel',
  'Cookery',
];
const PATTERNS: Array<(r: () => number) => string> = [
  (r) => `The ${pick(r, ADJECTIVES)} ${pick(r, NOUNS)}`,
  (r) => `${pick(r, NOUNS)} of ${pick(r, PLACES)}`,
  (r) => `A ${pick(r, ADJECTIVES)} History of ${pick(r, PLACES)}`,
  (r) => `The ${pick(r, NOUNS)}'s Daughter`,
  (r) => `${pick(r, ADJECTIVES)} ${plural(pick(r, NOUNS))}`,
  (r) => `Notes from ${pick(r, PLACES)}`,
];

/** The whole demo catalog, keyed by id (`b-1` … `b-300`). */
export const BOOKS: ReadonlyMap<string, DemoBook> = new Map(
  Array.from({ length: BOOK_COUNT }, (_, index) => {
    const book = makeBook(index + 1);
    return [book.id, book] as const;
  }),
);

/** Active promotions, relative to the moment the demo starts. */
export function activePromotions(now = Date.now()): DemoPromotion[] {
  const day = 24 * 60 * 60 * 1000;
  const iso = (offsetDays: number) => new Date(now + offsetDays * day).toISOString();
  return [
    promotion(
      'promo-winter-reads',
      'Winter reads: 3 for 2 on paperbacks',
      'b-17',
      iso(-3),
      iso(11),
    ),
    promotion('promo-sci-fi-week', 'Science fiction week: up to 40% off', 'b-42', iso(-1), iso(6)),
    promotion(
      'promo-author-signing',
      'Meet the author: signed first editions',
      'b-108',
      iso(-7),
      iso(2),
    ),
    promotion('promo-free-delivery', 'Free delivery on orders over €25', null, null, null),
    promotion('promo-gift-cards', 'Gift cards for every reader you know', null, iso(-10), iso(30)),
  ];
}

/** Picks for one user: stable per user, different between users. */
export function picksForUser(userId: string, limit: number): DemoPick[] {
  const random = mulberry32(hash(userId));
  const favourite = bookAt(Math.floor(random() * BOOK_COUNT));
  const seen = new Set<string>([favourite.id]);
  const picks: DemoPick[] = [];
  while (picks.length < limit) {
    const book = bookAt(Math.floor(random() * BOOK_COUNT));
    if (seen.has(book.id)) continue;
    seen.add(book.id);
    const score = Math.round((0.99 - picks.length * 0.03 - random() * 0.02) * 1000) / 1000;
    const reason =
      book.genre === favourite.genre
        ? `Because you read ${favourite.title}`
        : picks.length % 3 === 0
          ? `Popular in ${book.genre}`
          : null;
    picks.push({ bookId: book.id, score: Math.max(score, 0.01), reason });
  }
  return picks;
}

/** Picks for anonymous visitors: the shop's current bestsellers. */
export function popularPicks(limit: number): DemoPick[] {
  return Array.from({ length: limit }, (_, i) => {
    const book = bookAt((i * 37 + 11) % BOOK_COUNT);
    return {
      bookId: book.id,
      score: Math.round((0.95 - i * 0.01) * 100) / 100,
      reason: `Bestseller in ${book.genre}`,
    };
  });
}

// Private helpers.

function makeBook(n: number): DemoBook {
  const random = mulberry32(n * 7919);
  const authorCount = random() < 0.15 ? 2 : 1;
  const authors = Array.from(
    { length: authorCount },
    () => `${pick(random, FIRST_NAMES)} ${pick(random, LAST_NAMES)}`,
  );
  const title = pick(random, PATTERNS)(random);
  return {
    id: `b-${n}`,
    title,
    authors,
    price: { amount: 799 + Math.floor(random() * 25) * 100, currency: 'EUR' },
    coverUrl: n % 10 === 0 ? null : `https://images.bookshop.example/covers/b-${n}.jpg`,
    genre: pick(random, GENRES),
  };
}

function promotion(
  id: string,
  title: string,
  bookId: string | null,
  startsAt: string | null,
  endsAt: string | null,
): DemoPromotion {
  return {
    id,
    title,
    imageUrl: `https://images.bookshop.example/banners/${id}.jpg`,
    link: `/campaigns/${id.replace(/^promo-/, '')}`,
    bookId,
    startsAt,
    endsAt,
  };
}

function plural(noun: string): string {
  return /[^aeiou]y$/.test(noun) ? `${noun.slice(0, -1)}ies` : `${noun}s`;
}

function bookAt(index: number): DemoBook {
  const book = BOOKS.get(`b-${index + 1}`);
  if (!book) throw new RangeError(`No demo book at index ${index}`);
  return book;
}

function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new RangeError('pick from an empty list');
  return item;
}

/** Small seeded PRNG: demo data must be the same on every machine. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hash(text: string): number {
  let h = 2166136261;
  for (const char of text) h = Math.imul(h ^ char.charCodeAt(0), 16777619);
  return h >>> 0;
}
