# syntax=docker/dockerfile:1

# ---- build ----------------------------------------------------------------
FROM golang:1.26-bookworm AS build
# go.mod may name a newer 1.26.x patch release than the image ships; let the
# go command fetch it instead of failing (the image defaults to "local").
ENV GOTOOLCHAIN=auto
WORKDIR /src

COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" \
        -o /out/frontdesk ./cmd/frontdesk

# ---- runtime --------------------------------------------------------------
# distroless/static: CA certificates (Graph API calls) and tzdata, no shell;
# the :nonroot tag runs as uid/gid 65532.
FROM gcr.io/distroless/static-debian12:nonroot

COPY --from=build /out/frontdesk /usr/local/bin/frontdesk
# Example configs for reference; mount the real one at
# /etc/frontdesk/config.yaml (see docker-compose.yml).
COPY configs/ /etc/frontdesk/

USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["frontdesk"]
CMD ["serve", "--config", "/etc/frontdesk/config.yaml"]
