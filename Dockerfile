# syntax=docker/dockerfile:1
#
# The idpbuilder image: the hook service (`idpbuilder serve`, the chart's Deployment) and the programs the
# install, bootstrap and sync Jobs run (helm, kubectl, git, `idpbuilder job …`). See docs/install.md.
#
#   docker build -t ghcr.io/cnoe-io/idpbuilder-metacontroller:0.1.0 .
#   docker buildx build --platform linux/amd64,linux/arm64 -t … --push .
#
# Runs as uid/gid 65532 with a read-only root filesystem: everything that writes (helm's and kubectl's
# caches, git clones) uses /tmp, which the Jobs and the Deployment mount as an emptyDir.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------------
# build: compile TypeScript to dist/, then drop the dev dependencies.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs ./scripts/build.mjs
COPY src ./src
COPY bin ./bin
# `npm ci` runs the `prepare` script (scripts/build.mjs): it compiles src/ to dist/, so the sources are copied
# first. tsx stays (it is a runtime dependency for checkouts); the image runs dist/ (IDPBUILDER_USE_DIST=1).
RUN npm ci --no-audit --no-fund \
 && test -f dist/cli/main.js \
 && npm prune --omit=dev --ignore-scripts --no-audit --no-fund \
 && chmod 0755 bin/idpbuilder.mjs

# ---------------------------------------------------------------------------------------------------
# tools: pinned helm and kubectl release binaries, checked against their published SHA-256 sums.
# Runs on the build machine's platform and downloads the binaries of the target platform.
FROM --platform=$BUILDPLATFORM debian:bookworm-slim AS tools
ARG TARGETARCH
# https://github.com/helm/helm/releases/tag/v3.19.5 (the .sha256sum files next to the tarballs)
ARG HELM_VERSION=v3.19.5
ARG HELM_SHA256_AMD64=a0a5e8c592ed3f376ac110715eff214730c7422f9a44d96cf98117d2b8b0e6c0
ARG HELM_SHA256_ARM64=ce02147ffee6d993bf8ae97a44a22e9e1daf0b69d2d5b69a0c8cf6706445ccf5
# https://dl.k8s.io/release/v1.34.4/bin/linux/<arch>/kubectl.sha256
ARG KUBECTL_VERSION=v1.34.4
ARG KUBECTL_SHA256_AMD64=d50c359d95e0841eaad08ddc27c7be37cba8fdccfba5c8e2ded65e121ff112db
ARG KUBECTL_SHA256_ARM64=5b982c0644ab1e27780246b9085a5886651b4a7ed86243acbb2bacc1bea01dda
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*
RUN set -eu; \
    arch="${TARGETARCH:-amd64}"; \
    case "$arch" in \
      amd64) helm_sha="$HELM_SHA256_AMD64"; kubectl_sha="$KUBECTL_SHA256_AMD64" ;; \
      arm64) helm_sha="$HELM_SHA256_ARM64"; kubectl_sha="$KUBECTL_SHA256_ARM64" ;; \
      *) echo "unsupported TARGETARCH: $arch (amd64 and arm64 have pinned checksums)" >&2; exit 1 ;; \
    esac; \
    mkdir -p /out /tmp/helm; \
    curl -fsSL --retry 3 -o /tmp/helm.tar.gz "https://get.helm.sh/helm-${HELM_VERSION}-linux-${arch}.tar.gz"; \
    echo "${helm_sha}  /tmp/helm.tar.gz" | sha256sum -c -; \
    tar -xzf /tmp/helm.tar.gz -C /tmp/helm --strip-components=1 "linux-${arch}/helm"; \
    install -m 0755 /tmp/helm/helm /out/helm; \
    curl -fsSL --retry 3 -o /tmp/kubectl "https://dl.k8s.io/release/${KUBECTL_VERSION}/bin/linux/${arch}/kubectl"; \
    echo "${kubectl_sha}  /tmp/kubectl" | sha256sum -c -; \
    install -m 0755 /tmp/kubectl /out/kubectl

# ---------------------------------------------------------------------------------------------------
# runtime: Node.js, git (repo-sync pushes with it), helm, kubectl and the compiled program. Nothing else.
FROM ${NODE_IMAGE} AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="idpbuilder-metacontroller" \
      org.opencontainers.image.description="idpbuilder as Metacontroller hooks: the hook service and the install/bootstrap/sync Job programs" \
      org.opencontainers.image.source="https://github.com/cnoe-io/idpbuilder" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"

# git + CA certificates, and a named user for uid 65532 (git and ssh look the user up). npm, npx and
# corepack are not needed at run time and go.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
           /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* /usr/local/bin/yarn /usr/local/bin/yarnpkg \
 && groupadd --gid 65532 idpbuilder \
 && useradd --uid 65532 --gid 65532 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin idpbuilder

COPY --from=tools /out/helm /out/kubectl /usr/local/bin/

WORKDIR /opt/idpbuilder
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
# Bootstrap content: GitRepository sources of type Embedded read paths below this directory.
COPY embedded ./embedded

# bin/idpbuilder.mjs runs dist/ (not the TypeScript sources) when IDPBUILDER_USE_DIST=1.
ENV IDPBUILDER_USE_DIST=1 \
    NODE_ENV=production \
    HOME=/tmp
RUN ln -s /opt/idpbuilder/bin/idpbuilder.mjs /usr/local/bin/idpbuilder \
 && idpbuilder --help >/dev/null \
 && helm version --short \
 && kubectl version --client=true \
 && git --version

USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["idpbuilder"]
CMD ["serve"]
