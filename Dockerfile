# OpenLSC container image.
#
#   docker build --build-arg VERSION=$(git describe --always --dirty) -t openlsc/openlsc .
#
# The binary needs cgo (gorm.io/driver/sqlite -> mattn/go-sqlite3), so it is
# linked against glibc: the runtime stage is Debian bookworm like the build
# stage, with curl for the container health check. Written for both the classic
# builder and BuildKit (no RUN --mount), so docker-compose 1.29 can build it.

FROM golang:1.26-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=1
# Dependencies first: this layer stays cached until go.mod/go.sum change.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/openlsc ./cmd/openlsc

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 openlsc \
 && useradd --system --uid 10001 --gid openlsc --home-dir /var/lib/openlsc --shell /usr/sbin/nologin openlsc \
 && install -d -o openlsc -g openlsc -m 0750 /var/lib/openlsc /var/lib/openlsc/files
COPY --from=build /out/openlsc /usr/local/bin/openlsc
USER 10001:10001
WORKDIR /var/lib/openlsc
ENV OPENLSC_ADDR=0.0.0.0:8080 \
    OPENLSC_STORAGE_DIR=/var/lib/openlsc/files
EXPOSE 8080
# /readyz: database reachable and migrations applied. The port is taken from OPENLSC_ADDR.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${OPENLSC_ADDR##*:}/readyz" || exit 1
ENTRYPOINT ["openlsc"]
CMD ["serve"]
