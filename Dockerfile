# syntax=docker/dockerfile:1
# The gateway as an image: built in one stage, run from a second that holds only
# what `node dist/main.js` needs (production dependencies, dist/, the schema and
# the trusted-document manifests). Both stages use the same base, so native
# modules built by npm ci match the runtime exactly.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# The lockfile first: the dependency layer is reused until it changes.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json schema.graphql ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
# Production mode: GraphiQL and introspection off, CSRF prevention on (src/config.ts).
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# The package managers are removed once they have installed: the process is plain
# `node`, and npm, npx, corepack and yarn in a running image are tools for an
# intruder and noise in every vulnerability scan.
RUN npm ci --omit=dev --no-audit --no-fund \
  && npm cache clean --force \
  && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
    /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack \
    /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-* /root/.npm
# Owned by root and only readable by the process: the gateway never writes to its
# own code (Kubernetes also mounts the root filesystem read-only).
COPY --from=build /app/dist ./dist
# app.ts reads ../schema.graphql relative to dist/; the manifest path
# (TRUSTED_DOCUMENTS_MANIFEST, default operations/manifest.json) is relative to /app.
COPY schema.graphql ./
COPY operations ./operations
# The base image's unprivileged user (uid 1000). Kubernetes cannot check that a
# user given by name is not root, so deployment.yaml sets runAsUser: 1000 too.
USER node
# The metrics port (METRICS_PORT, 9464 in production) first: scrapers only, never public.
EXPOSE 9464
EXPOSE 4000
# Node is PID 1 and handles SIGTERM itself (src/main.ts drains, then exits).
CMD ["node", "dist/main.js"]
