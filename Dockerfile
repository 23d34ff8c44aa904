# One image for both roles: `api` (default) and `worker` (command: npm run worker).
# The web console is built in a stage of its own: its build tools are dev dependencies.
FROM node:24-bookworm-slim AS console
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY console ./console
COPY scripts ./scripts
RUN node scripts/build-console.mjs

FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund && npm install --no-save tsx
COPY src ./src
COPY bin ./bin
COPY scripts ./scripts
COPY tsconfig.json ./
COPY --from=console /app/console/dist ./console/dist
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
EXPOSE 3000
CMD ["node", "--import", "tsx", "src/main/api.ts"]
