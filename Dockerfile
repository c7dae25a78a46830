# syntax=docker/dockerfile:1
# The oaat-operator image: `make docker-build` (IMG=oaat-operator:<version>).
# What the runtime stage holds (package files, `npm ci --omit=dev`, dist/) is what
# hack/runtime-dir.sh assembles without a container engine; `make e2e-local` runs the operator
# from such a directory, so a runtime dependency missing here fails a test.

# Build: every dependency (TypeScript included), then dist/.
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Runtime: Node 24, production dependencies and dist/ only, as the unprivileged `node` user
# (uid 1000, which the chart's runAsUser names).
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
USER 1000:1000
EXPOSE 8080
CMD ["node", "dist/main.js"]
