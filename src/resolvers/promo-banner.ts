import type { PromoBannerResolvers } from '../__generated__/resolvers-types.js';
import { bookById } from './book-field.js';

export const PromoBanner: PromoBannerResolvers = { book: bookById };
