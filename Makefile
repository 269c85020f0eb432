# smshook — see README.md. `make run` and `make test` set up everything on a fresh Debian machine.
SWIFT ?= swift
CONFIG ?= debug
SWIFT_FLAGS ?=
BIN = $(shell $(SWIFT) build -c $(CONFIG) --show-bin-path 2>/dev/null)/smshook
# The build that ships (make install, the image): release, Swift runtime linked in, in a scratch path of its own so
# that it and the dynamic release build do not rebuild each other. `make bench` measures this one.
SHIPPED = -c release --static-swift-stdlib --scratch-path .build-static
SHIPPED_BIN = $(shell $(SWIFT) build $(SHIPPED) --show-bin-path 2>/dev/null)

.PHONY: all deps build build-release run test chaos soak fuzz eval bench bench-cluster bench-redis install uninstall clean
PREFIX ?= /usr/local
export PREFIX DESTDIR

all: build

deps:
	@ops/scripts/deps.sh

build: deps
	$(SWIFT) build -c $(CONFIG) $(SWIFT_FLAGS)

build-release: deps
	$(SWIFT) build -c release $(SWIFT_FLAGS)

## The service on :8080, with a local Redis (data in .data/) unless REDIS_URL is set.
run: build
	@ops/scripts/run.sh "$(BIN)"

## Every test, against a throwaway redis-server on a free loopback port.
test: deps
	$(SWIFT) build --build-tests $(SWIFT_FLAGS)
	ops/scripts/with-redis.sh $(SWIFT) test --skip-build $(SWIFT_FLAGS)
	ops/scripts/lint-ops.sh "$$($(SWIFT) build --show-bin-path)/smshook"
	ops/scripts/with-redis.sh ops/scripts/e2e.sh "$$($(SWIFT) build --show-bin-path)/smshook"
	ops/scripts/deps.sh chromium chromedriver:chromium-driver
	python3 ops/test/console-browser.py "$$($(SWIFT) build --show-bin-path)/smshook" .build/console-screenshots
	ops/scripts/deps.sh nft:nftables ip:iproute2
	python3 ops/chaos/chaos.py "$$($(SWIFT) build --show-bin-path)/smshook" --scale small
	python3 ops/chaos/soak.py "$$($(SWIFT) build --show-bin-path)/smshook" --seconds $${SOAK_SECONDS:-60}
	FUZZ_SECONDS=$${FUZZ_SECONDS:-5} ops/scripts/fuzz.sh

## Every libFuzzer target (Tests/Fuzz) for FUZZ_SECONDS each (default 60); a crash fails it and keeps the input.
fuzz: deps
	FUZZ_SECONDS=$${FUZZ_SECONDS:-60} ops/scripts/fuzz.sh

## Fault scenarios at full scale (5,000 guids / jobs); figures into RELIABILITY.md.
chaos: deps
	ops/scripts/deps.sh nft:nftables ip:iproute2
	$(SWIFT) build --product smshook $(SWIFT_FLAGS)
	python3 ops/chaos/chaos.py "$$($(SWIFT) build --show-bin-path)/smshook" --scale full --report RELIABILITY.md

## Steady mixed load against 2 serve + 2 workers for SOAK_SECONDS (default 600), sampling RSS, fds, threads, Redis
## memory and keys, queue depth and p99 every 10 s; fails on growth beyond its bounds or any lost or duplicate reply.
soak: deps
	$(SWIFT) build --product smshook $(SWIFT_FLAGS)
	python3 ops/chaos/soak.py "$$($(SWIFT) build --show-bin-path)/smshook" --seconds $${SOAK_SECONDS:-600} --report ops/chaos/soak-of-record.md

## Classifier accuracy per intent on eval/labelled.tsv (fails under 97%).
eval: build
	"$(BIN)" classify --config config/smshook.yaml --eval eval/labelled.tsv --min-accuracy 97

## Ingest and worker throughput against the framework's bare route, written to BENCHMARKS.md.
bench: deps
	@command -v wrk >/dev/null && command -v valgrind >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk valgrind >/dev/null; }
	$(SWIFT) build $(SHIPPED) --product smshook $(SWIFT_FLAGS)
	$(SWIFT) build $(SHIPPED) --product smshook-bench $(SWIFT_FLAGS)
	ops/scripts/bench.sh "$(SHIPPED_BIN)/smshook" "$(SHIPPED_BIN)/smshook-bench"

## Ingest on a 3-primary Redis Cluster next to a single Redis, key spread, worker pickup (part of `make bench`).
bench-cluster: deps
	$(SWIFT) build $(SHIPPED) --product smshook $(SWIFT_FLAGS)
	ops/scripts/bench-cluster.sh "$(SHIPPED_BIN)/smshook"

## The Redis client against redis-benchmark, in the same run.
bench-redis: deps
	$(SWIFT) build $(SHIPPED) --product smshook-bench $(SWIFT_FLAGS)
	ops/scripts/bench-redis.sh "$(SHIPPED_BIN)/smshook-bench"

## The release binary (static Swift runtime) to $(PREFIX)/bin, user smshook, /etc/smshook/smshook.{yaml,env}
## (0640, kept when present), systemd units. DESTDIR=/stage installs into a staging tree. INSTALL_BIN=path skips the build.
install: deps
	@if [ -n "$(INSTALL_BIN)" ]; then ops/scripts/install.sh "$(INSTALL_BIN)"; else \
		$(SWIFT) build $(SHIPPED) --product smshook $(SWIFT_FLAGS) && \
		ops/scripts/install.sh "$(SHIPPED_BIN)/smshook"; fi

## Removes the binary and the units; keeps /etc/smshook, the user and the data.
uninstall:
	ops/scripts/uninstall.sh

clean:
	rm -rf .build .build-static
