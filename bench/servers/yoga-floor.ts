// An ablation: graphql-yoga and graphql (v16) as the gateway ships them,
// answering operations/web/Homepage.graphql from the floor's page (floor-page.ts,
// http.request, no ky, no zod, no DataLoader, no plugin of ours). `homepage`
// resolves to the floor's whole answer and graphql's default resolvers walk
// it: what the fixed server stack alone costs a page over the floor.
//
// FLOOR_CLIENT=ky makes the floor's calls through ky as floor.ts does: the
// fixed stack together (yoga and ky), with none of the gateway's own work.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';
import { env, floorGetJson, homepage } from './floor-page.js';

const getJson = floorGetJson();
// The gateway's schema, read as src/app.ts reads it (not imported: that would load the whole gateway).
const typeDefs = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');

const yoga = createYoga<{ req: { headers: { authorization?: string } } }>({
  schema: createSchema({
    typeDefs,
    resolvers: {
      Query: {
        // The page's one variable, `$limit` (default 10), as the floor reads it.
        homepage: (_parent, _args, context, info) =>
          homepage(
            getJson,
            context.req.headers.authorization,
            typeof info.variableValues.limit === 'number' ? info.variableValues.limit : 10,
          ),
      },
    },
  }),
  graphiql: false,
  landingPage: false,
  logging: false,
});

createServer(yoga).listen(Number(env('PORT')), '127.0.0.1');
