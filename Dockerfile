# Warden: one static binary on a distroless base, run as non-root.
#   docker build -t warden .
#   docker run --rm -v "$PWD:/work" -w /work warden check plan.json
# Build: musl target, so the binary has no libc dependency (rustls on ring, SQLite bundled:
# no C toolchain beyond musl-gcc for ring and SQLite's amalgamation).
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends musl-tools \
    && rm -rf /var/lib/apt/lists/* \
    && rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p warden --target x86_64-unknown-linux-musl \
    && cp target/x86_64-unknown-linux-musl/release/warden /warden

# static: no libc, no shell; `nonroot` is uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /warden /usr/local/bin/warden
USER 65532:65532
EXPOSE 8080 8443
ENTRYPOINT ["/usr/local/bin/warden"]
CMD ["--help"]
