# Build: docker build -t gcm-hub .
FROM rust:1.85-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p hub

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/hub --create-home hub
COPY --from=build /src/target/release/hub /usr/local/bin/hub
USER hub
WORKDIR /var/lib/hub
ENV HUB_LISTEN=0.0.0.0:8080 HUB_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["hub"]
CMD ["serve"]
