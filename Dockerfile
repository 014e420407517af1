# syntax=docker/dockerfile:1
#
# One image for every engine process; docker-compose.yml picks the command:
#   worker      node dist/workers/main.js   (default)
#   API         node dist/api/main.js
#   migrations  node dist/scripts/migrate.js
# Configuration comes from the environment only (see infra/config.ts). The image holds compiled code,
# the SQL migrations and production dependencies only: no TypeScript, tsx, embedded PostgreSQL, tests or
# the sandbox payment provider (`npm run build` leaves it out of dist/, see scripts/build.mjs).

# Node 24 LTS, an exact release. npm 11 (it honours package.json's `allowScripts`), an exact release too.
ARG NODE_IMAGE=node:24.18.0-bookworm-slim
ARG NPM_VERSION=11.19.1

FROM ${NODE_IMAGE} AS base
ARG NPM_VERSION
RUN npm install -g npm@${NPM_VERSION} && npm cache clean --force
WORKDIR /app

# --- build: all dependencies, compile TypeScript to dist/, bundle the workflow code once ---
FROM base AS build
# patches/: our fix of a dependency, applied by the postinstall script (patch-package).
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY activities ./activities
COPY api ./api
COPY infra ./infra
COPY modules ./modules
COPY scripts ./scripts
COPY workers ./workers
COPY workflows ./workflows
RUN npm run build && node dist/scripts/bundle-workflows.js dist/workflow-bundle.js

# --- runtime: production dependencies, compiled code, SQL migrations ---
FROM base AS runtime
# CA roots for TEMPORAL_TLS=true / a managed PostgreSQL with TLS.
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# infra/migrate.ts finds them from dist/infra/ as ../../db/migrations.
COPY db/migrations ./db/migrations
# The worker starts from the bundle built above, not from webpack at every start.
ENV WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
USER node
CMD ["node", "dist/workers/main.js"]
