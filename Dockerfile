# syntax=docker/dockerfile:1
#
# One image for the three programs: homebed-gateway, homebed-cloud and homebed-sim (the bin names of
# package.json, installed as small wrappers in /usr/local/bin). docker-compose.yml picks one per service
# with `command:`; run alone:
#
#   docker build -t homebed:0.1.0 .
#   docker run --rm homebed:0.1.0 homebed-cloud --help
#
# Stages: `build` installs every dependency (npm ci), compiles to dist/ (npm run build) and then drops the
# dev dependencies (npm prune --omit=dev); `runtime` is a slim Node 20 with only those production
# dependencies, dist/ and the few non-TypeScript files the programs read at run time.

# Node 20 as on the development machines (package.json engines: >= 20.19). Same image in both stages, so
# the native modules (better-sqlite3, @serialport/bindings-cpp) are built for the Node that runs them.
FROM node:20.20.2-bookworm-slim AS build
# Compilers for a native module without a prebuilt binary for this platform; the Node headers of the image
# (instead of a download from nodejs.org).
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY contract ./contract
COPY common ./common
COPY gateway ./gateway
COPY cloud ./cloud
COPY firmware-sim ./firmware-sim
RUN npm run build && npm prune --omit=dev

FROM node:20.20.2-bookworm-slim AS runtime
# socat: the simulator's PTY pairs (firmware-sim/links/pty.ts). tini: PID 1 that forwards signals and
# reaps children (socat, the `sound` feedback notifier's player).
RUN apt-get update \
  && apt-get install -y --no-install-recommends socat tini \
  && rm -rf /var/lib/apt/lists/*
# A dedicated user; dialout for serial adapters passed in with `devices:`. The state directories exist in
# the image owned by it, so a new named volume mounted there starts out writable.
RUN groupadd --system --gid 10001 homebed \
  && useradd --system --uid 10001 --gid homebed --groups dialout \
       --home-dir /var/lib/homebed --no-create-home --shell /usr/sbin/nologin homebed \
  && mkdir -p /var/lib/homebed/gateway /var/lib/homebed/cloud /etc/homebed /run/homebed \
  && chown homebed:homebed /var/lib/homebed /var/lib/homebed/gateway /var/lib/homebed/cloud /run/homebed
WORKDIR /app
# The application stays owned by root: the programs cannot change themselves.
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Read at run time from the source tree's place: the web console (cloud/http/routes/web-routes.ts looks
# for cloud/web next to dist/) and the bundled scenarios (firmware-sim/scenarios/catalog.ts).
COPY --from=build /app/cloud/web ./cloud/web
COPY --from=build /app/firmware-sim/scenarios/*.yaml ./firmware-sim/scenarios/
# The bin entries of package.json (name:script), as wrappers so the scripts need no shebang or x bit.
RUN set -eu; \
  for entry in \
    homebed-gateway:dist/gateway/cli.js \
    homebed-cloud:dist/cloud/cli.js \
    homebed-sim:dist/firmware-sim/cli.js; \
  do \
    name="${entry%%:*}"; script="${entry#*:}"; \
    test -f "/app/$script"; \
    printf '#!/bin/sh\nexec node /app/%s "$@"\n' "$script" > "/usr/local/bin/$name"; \
    chmod 0755 "/usr/local/bin/$name"; \
  done
ENV NODE_ENV=production
USER homebed
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["homebed-cloud", "run", "--config", "/etc/homebed/cloud.yaml"]
