# syntax=docker/dockerfile:1
# Vexil's production image. Two stages: `build` installs every dependency and compiles
# TypeScript (src/ → dist/, with tsc) and the admin UI (web/ → web/dist); `runtime` keeps only
# the compiled JavaScript, the production dependencies and the UI, and runs as the unprivileged
# `node` user. The runtime has no shell tools beyond Alpine's busybox and no curl: the health
# check is a one-line Node script. See README.md, "Deploying".
ARG NODE_IMAGE=node:20-alpine

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Manifests first, so the dependency layers are cached until a lock file changes.
COPY package.json package-lock.json ./
COPY web/package.json web/package-lock.json ./web/
RUN npm ci --no-audit --no-fund && npm ci --prefix web --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
# bench/ is compiled with src/ (tsconfig.build.json) and imports a few test helpers.
COPY bench ./bench
COPY test/helpers ./test/helpers
COPY web ./web
RUN node scripts/build.mjs && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
# Vexil reads PORT, HOST and VEXIL_* only (src/config.ts). The embedded database (used only when
# DATABASE_URL is unset) lives in /data, the one writable directory of the image.
ENV PORT=8000 \
    VEXIL_DATA_DIR=/data
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/web/dist ./web/dist
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8000
VOLUME ["/data"]
# /_liveness answers once the server listens (after migrations and the first snapshot load).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/_liveness').then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))"]
# SIGTERM goes straight to Node (no npm or shell in between), which drains and exits.
CMD ["node", "dist/src/main.js"]
