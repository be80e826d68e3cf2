# syntax=docker/dockerfile:1

# ---- build stage ----------------------------------------------------------
FROM rust:1-bookworm AS builder
WORKDIR /src
ENV CARGO_TARGET_DIR=/target

# build.rs, migrations and static are build inputs, and crates/ holds the workspace
# members (usher-protocol, which the server depends on, and usher-load), so they must
# be present before `cargo build`.
COPY Cargo.toml Cargo.lock build.rs ./
COPY crates ./crates
COPY src ./src
COPY migrations ./migrations
COPY static ./static

# Only the server: the workspace's default members include the load generator.
RUN cargo build --release --locked -p usher

# ---- runtime stage --------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*

COPY --from=builder /target/release/usher /usr/local/bin/usher

WORKDIR /app
EXPOSE 8080
CMD ["usher"]
