# syntax=docker/dockerfile:1
# Build stage: compile better-sqlite3's native addon against the runtime's Node, with the dev toolchain,
# and the TypeScript to dist/.
FROM node:22-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY gateway ./gateway
COPY adapters ./adapters
COPY certs ./certs
COPY config ./config
# Compiled JavaScript in dist/ (what `npm start` runs), then the development dependencies go.
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Runtime stage: Node 22 LTS, no compiler, a non-root user, state in a volume.
FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    XR_DATA_DIR=/var/lib/xr-gateway \
    XR_HOST=0.0.0.0 \
    XR_PARTNER_PORT=8080 \
    XR_LOCAL_PORT=8081 \
    XR_ADMIN_PORT=8082
WORKDIR /app
RUN groupadd --system xr && useradd --system --gid xr --home-dir /app xr \
    && mkdir -p /var/lib/xr-gateway && chown xr:xr /var/lib/xr-gateway
COPY --from=build --chown=root:root /app /app
USER xr
VOLUME ["/var/lib/xr-gateway"]
EXPOSE 8080 8081 8082
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.XR_ADMIN_PORT||8082)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/gateway/main.js"]
