# The export worker image; the Atlas simulator runs from the same image (see docker-compose.yml).
#
# Base: Debian trixie (glibc). @temporalio/core-bridge ships no musl build, so Alpine images fail at
# load time. Node 26 is the Active LTS line, the version in .nvmrc that `npm test` runs the suite on; the floor
# in package.json engines (Node 22) gets a named subset (scripts/test.sh).

# Images by tag only: no registry was reachable to read their digests (docs/security.md, "Compose defaults").
FROM node:26.12.1-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No dependency's install script runs (npm's allowScripts policy only warns about an unreviewed one, and runs it),
# then the one this stage needs, named with the version package-lock.json installs: @swc/core's postinstall checks
# its native binding, which the workflow bundler uses (test/deploy checks the versions).
RUN npm ci --ignore-scripts --no-audit --no-fund && npm rebuild @swc/core@1.16.22
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# Compiles to dist/ and prebuilds the workflow bundle (dist/workflow-bundle.js) from the same source.
RUN npm run build

FROM node:26.12.1-trixie-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
# No install script at all: the runtime needs none (protobufjs's only prints a version-scheme warning, and
# @swc/core's native binding comes as an optional dependency; the worker loads the prebuilt bundle).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:26.12.1-trixie-slim AS runtime
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
