# syntax=docker/dockerfile:1
#
# One image for every engine process; docker-compose.yml picks the command:
#   worker      node dist/workers/main.js   (default)
#   API         node dist/api/main.js
#   migrations  node dist/scripts/migrate.js
# Configuration comes from the environment only (see infra/config.ts).

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS base
# package.json's `allowScripts` (which install scripts may run) is honoured by npm 11; the base image
# ships npm 10, which would ignore it.
ARG NPM_VERSION=11
RUN npm install -g npm@${NPM_VERSION} && npm cache clean --force
WORKDIR /app

# --- build: all dependencies, compile TypeScript to dist/ ---
FROM base AS build
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build

# --- runtime: production dependencies, compiled code, SQL migrations ---
FROM base AS runtime
# CA roots for TEMPORAL_TLS=true / a managed PostgreSQL with TLS.
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
# infra/migrate.ts finds them from dist/infra/ as ../../db/migrations.
COPY db/migrations ./db/migrations
USER node
CMD ["node", "dist/workers/main.js"]
