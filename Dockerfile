# syntax=docker/dockerfile:1
# The oaat-operator image for people with a container engine: `make docker-build`
# (IMG=oaat-operator:<version>). `make image` builds the same image without one, reproducibly,
# as dist/oaat-operator-<version>.oci.tar (hack/image.sh); this file holds the same files: the
# build stage stages the four layers with that script, and the final stage copies them in the
# same order with the same config. Owners and modes are the same; times are the engine's, so
# the digest is not (plus one small layer: the non-root user's home, which COPY cannot own
# otherwise).

# Build: every dependency (TypeScript and the pinned node binary included), then the layers.
FROM node:24-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY hack/image.sh ./hack/image.sh
COPY hack/image/inputs.lock ./hack/image/inputs.lock
RUN apt-get update -q && hack/image.sh stage /layers

# Runtime: no shell, no package manager; Debian's C/C++ libraries, node, production
# dependencies, the operator.
FROM scratch
ARG VERSION=dev
COPY --from=build /layers/base /
COPY --from=build /layers/node /
COPY --from=build /layers/modules /
COPY --from=build /layers/app /
COPY --from=build --chown=65532:65532 /layers/base/home/nonroot /home/nonroot
ENV PATH=/nodejs/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin NODE_ENV=production
LABEL org.opencontainers.image.title=oaat-operator \
      org.opencontainers.image.version=$VERSION \
      org.opencontainers.image.licenses=MIT
USER 65532:65532
WORKDIR /app
EXPOSE 8080
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/main.js"]
