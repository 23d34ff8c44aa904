# One image for both roles: `api` (default) and `worker` (command: npm run worker).
FROM node:24-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund && npm install --no-save tsx
COPY src ./src
COPY bin ./bin
COPY scripts ./scripts
COPY tsconfig.json ./
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
EXPOSE 3000
CMD ["node", "--import", "tsx", "src/main/api.ts"]
