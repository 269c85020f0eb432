# smshook: multi-stage build. Builder: Swift 6.3 with libhiredis-dev and libjemalloc-dev; runtime: slim Debian with
# only what the binary links (ldd: libhiredis0.14, libjemalloc2 (its malloc), libstdc++6, zlib1g, libc6, libgcc-s1),
# the Swift runtime linked statically.
FROM swift:6.3-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends libhiredis-dev libjemalloc-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --product smshook --static-swift-stdlib \
    && install -D "$(swift build -c release --show-bin-path)/smshook" /out/smshook

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends libhiredis0.14 libjemalloc2 libstdc++6 zlib1g ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 smshook \
    && useradd --system --no-create-home --uid 10001 --gid 10001 smshook
COPY --from=build /out/smshook /usr/local/bin/smshook
COPY config/smshook.yaml /etc/smshook/smshook.yaml
ENV SMSHOOK_HOST=0.0.0.0 \
    SMSHOOK_PORT=8080 \
    SMSHOOK_CONFIG=/etc/smshook/smshook.yaml \
    LOG_FORMAT=json
USER 10001:10001
EXPOSE 8080
# the binary checks itself: no curl in the image
HEALTHCHECK --interval=10s --timeout=5s --retries=3 CMD ["/usr/local/bin/smshook", "healthcheck", "--timeout", "3"]
ENTRYPOINT ["/usr/local/bin/smshook"]
CMD ["serve"]
