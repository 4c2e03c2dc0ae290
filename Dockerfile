# zhucun: a static binary on a distroless, non-root base.
# Build: docker build -t zhucun .   (no Docker engine runs on the development machines; CI does not build this)
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/zhucun ./cmd/zhucun \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/zhucun /zhucun
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV ZHUCUN_ADDR=:8080 \
    ZHUCUN_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["/zhucun", "healthcheck"]
ENTRYPOINT ["/zhucun"]
CMD ["serve"]
