# syntax=docker/dockerfile:1
# Entitle's image. Built by the pipeline (.github/workflows/pipeline.yml) as
#   docker build --build-arg ENTITLE_BUILD_VERSION=1.4.2 --build-arg ENTITLE_BUILD_COMMIT=$(git rev-parse HEAD) -t ghcr.io/entitle/entitle:$(git rev-parse HEAD) .
# Reproducible from the lock file: dependencies come from `npm ci` alone, the base image is pinned
# (the pipeline pins it by digest), and nothing is downloaded at run time.
# It runs as an unprivileged user on a read-only root filesystem; only /tmp needs to be writable.

ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# Stage 1: production dependencies only, exactly as package-lock.json says. No install scripts:
# none of Entitle's dependencies needs one to run (esbuild, under tsx, ships its binary as a package).
FROM ${NODE_IMAGE} AS dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# Stage 2: the build. The TypeScript sources compiled to JavaScript (scripts/build.js, as npm
# install does), so the service starts without compiling anything and ships no TypeScript.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY scripts ./scripts
COPY src ./src
RUN node scripts/build.js

# Stage 3: the runtime: production dependencies and the build, owned by root and read-only to the
# service's user. With no sources beside it, bin/entitle.js runs the build.
FROM ${NODE_IMAGE} AS runtime
ARG ENTITLE_BUILD_VERSION=unreleased
ARG ENTITLE_BUILD_COMMIT=unknown
LABEL org.opencontainers.image.title="entitle" \
      org.opencontainers.image.description="Entitle: an exact, explainable benefits rules engine" \
      org.opencontainers.image.version="${ENTITLE_BUILD_VERSION}" \
      org.opencontainers.image.revision="${ENTITLE_BUILD_COMMIT}" \
      org.opencontainers.image.licenses="MIT"
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    ENTITLE_BUILD_VERSION=${ENTITLE_BUILD_VERSION} \
    ENTITLE_BUILD_COMMIT=${ENTITLE_BUILD_COMMIT}
WORKDIR /app
COPY --from=dependencies /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY bin ./bin
COPY --from=build /app/dist ./dist
COPY rulesets ./rulesets
COPY communications ./communications
COPY deploy/incidents ./deploy/incidents
# The service's user: no shell login, no home, no write access to /app.
RUN groupadd --system --gid 10001 entitle \
 && useradd --system --uid 10001 --gid entitle --no-create-home --shell /usr/sbin/nologin entitle
USER 10001:10001
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 CMD ["node", "bin/healthcheck.js"]
ENTRYPOINT ["node", "bin/entitle.js"]
CMD ["serve"]
