/** The query GraphiQL opens with: the whole home page, with how to sign in. */
export const EXAMPLE_QUERY = /* GraphQL */ `
  # The bookshop's home page: promo banners and recommendations, fetched in parallel.
  #
  # Anonymous visitors get popular picks. To see a user's own picks, print a token
  #   npm run token -- u-42
  # and add it in the Headers tab below:
  #   { "Authorization": "Bearer <token>" }
  query Homepage {
    homepage {
      promo {
        id
        title
        imageUrl
        link
        startsAt
        endsAt
        book {
          ...BookCard
        }
      }
      recommendations(limit: 5) {
        score
        reason
        book {
          ...BookCard
        }
      }
    }
  }

  fragment BookCard on Book {
    id
    title
    authors
    price {
      amount
      currency
    }
    coverUrl
  }
`;
