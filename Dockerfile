# One image for every role: the admin API (default command), a worker (`node dist/main/worker.js`)
# and the CLI (`node bin/stsync.js migrate`, …). Built in a stage with the dev dependencies
# (TypeScript, Vite, the workflow bundler); the image itself holds the JavaScript build, the built
# console and the production dependencies only, and runs as an unprivileged user.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY console ./console
COPY src ./src
RUN node scripts/build.mjs && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/console/dist ./console/dist
COPY bin ./bin
# The node image's unprivileged user; nothing in /app is writable by it.
USER node
EXPOSE 3000
# The API's liveness probe; a worker container overrides it (compose: its metrics port, or none).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/healthz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main/api.js"]
