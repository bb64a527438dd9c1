# The export worker image; the Atlas simulator runs from the same image (see docker-compose.yml).
#
# Base: Debian trixie (glibc). @temporalio/core-bridge ships no musl build, so Alpine images fail at
# load time. Node 26 is the Active LTS line; the code also runs on Node 20 (package.json engines).

FROM node:26.11.0-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# Compiles to dist/ and prebuilds the workflow bundle (dist/workflow-bundle.js) from the same source.
RUN npm run build

FROM node:26.11.0-trixie-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:26.11.0-trixie-slim AS runtime
ENV NODE_ENV=production
# The worker loads the prebuilt bundle instead of running webpack at every start (README: "Scale").
ENV WORKER_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
WORKDIR /app
# Owned by root and read-only to the `node` user that runs the process.
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# For "type": "commonjs", which the compiled dist/ relies on.
COPY package.json ./
USER node
# The SDK's runtime drains in-flight tasks on SIGTERM before the worker exits.
STOPSIGNAL SIGTERM
CMD ["node", "dist/worker.js"]
