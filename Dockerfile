# teplokarta: one image, every command (ingest, process, simulate, sla, migrate).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o /out/teplokarta ./cmd/teplokarta

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/teplokarta /usr/local/bin/teplokarta
COPY deploy/ /etc/teplokarta/
USER 65534:65534
ENTRYPOINT ["/usr/local/bin/teplokarta"]
