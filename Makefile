# teplokarta — the two commands: `make run` (the main job on the embedded default) and `make test`.
SHELL := /bin/bash
GO ?= go
STACK := deploy/local/stack.sh
# The tests get their own stack (state dir and ports) so they never touch the one `make run` uses.
# Their ports can be moved (e.g. `make test TEST_CH_PORT=19500 TEST_CH_HTTP_PORT=18523 TEST_REDIS_PORT=16779`)
# to run a second suite beside one already running.
TEST_CH_PORT ?= 19100
TEST_CH_HTTP_PORT ?= 18223
TEST_REDIS_PORT ?= 16479
TEST_ENV := TEPLOKARTA_STATE_DIR=$(CURDIR)/.state/test TEPLOKARTA_CH_PORT=$(TEST_CH_PORT) TEPLOKARTA_CH_HTTP_PORT=$(TEST_CH_HTTP_PORT) TEPLOKARTA_REDIS_PORT=$(TEST_REDIS_PORT)
TEST_SERVERS := TEPLOKARTA_TEST_CLICKHOUSE=127.0.0.1:$(TEST_CH_PORT) TEPLOKARTA_TEST_REDIS=127.0.0.1:$(TEST_REDIS_PORT)
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: bench-peer chaos cluster-stop build run stop test test-cluster test-go test-plugin stack-up stack-down bench plugin model cv geo

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/teplokarta ./cmd/teplokarta

stack-up:
	@$(STACK) start

stack-down:
	@$(STACK) stop

# run: local ClickHouse + Redis, migrations, then broker + ingest + processor + simulator in one process,
# printing the current window's heat table every 10 s. Ctrl-C stops the process; `make stop` the stack.
run: build stack-up
	./bin/teplokarta migrate
	./bin/teplokarta run

stop: stack-down

# The plugin's npm install (about 2 minutes, mostly download and unpacking) runs beside the Go tests; its
# output follows theirs. test-plugin installs again (and fails visibly) if that install failed.
test:
	@$(TEST_ENV) $(STACK) start
	@set -o pipefail; status=0; mkdir -p .state; \
	pkgs="$$($(GO) list ./... | grep -v /node_modules/)" || status=$$?; \
	if [ $$status -eq 0 ] && [ -f plugin/package.json ]; then $(MAKE) --no-print-directory -C plugin install > .state/plugin-install.log 2>&1 & fi; \
	if [ $$status -eq 0 ]; then GO_PACKAGES="$$pkgs" $(MAKE) --no-print-directory test-go || status=$$?; fi; \
	wait; if [ -f .state/plugin-install.log ]; then cat .state/plugin-install.log; rm -f .state/plugin-install.log; fi; \
	if [ $$status -eq 0 ]; then $(MAKE) --no-print-directory test-plugin || status=$$?; fi; \
	$(TEST_ENV) $(STACK) stop; exit $$status

# GO_PACKAGES: listed before npm starts filling plugin/node_modules (`make test`), else here.
test-go:
	$(TEST_SERVERS) \
	  $(GO) test -race -count=1 -timeout 20m $${GO_PACKAGES:-$$($(GO) list ./... | grep -v /node_modules/)}
	# deploy/k8s is a module of its own (k8s.io/api stays out of the main module): strict manifest decoding.
	cd deploy/k8s && $(GO) test -count=1 -timeout 5m ./...
	# processor/dedup/lsmbench too (Pebble stays out of the main module): its benchmark, small, so it keeps building and running.
	cd processor/dedup/lsmbench && LSM_APPEALS=2000 $(GO) test -count=1 -timeout 5m -run '^$$' -bench PartitionState -benchtime 1x ./...

test-plugin:
	@if [ -f plugin/package.json ]; then $(TEST_SERVERS) $(MAKE) -C plugin test; fi

# test-cluster: the ClickHouse cluster tests (docs/cluster.md) on deploy/local/cluster.sh, ~3 min: two
# replicas of one shard, two shards, and two shards of two replicas (each layout its own servers and ZooKeeper).
SHARDS_2X1 := TEPLOKARTA_CLUSTER_SHARDS=2 TEPLOKARTA_CLUSTER_REPLICAS=1
SHARDS_2X2 := TEPLOKARTA_CLUSTER_SHARDS=2 TEPLOKARTA_CLUSTER_REPLICAS=2
test-cluster:
	deploy/local/cluster.sh start
	$(SHARDS_2X1) deploy/local/cluster.sh start
	$(SHARDS_2X2) deploy/local/cluster.sh start
	TEPLOKARTA_TEST_CH_CLUSTER=127.0.0.1:19610,127.0.0.1:19620 TEPLOKARTA_TEST_CH_SHARDS=127.0.0.1:19630,127.0.0.1:19640 \
	  TEPLOKARTA_TEST_CH_SHARDS_REPLICAS=127.0.0.1:19650,127.0.0.1:19660,127.0.0.1:19670,127.0.0.1:19680 \
	  $(GO) test -count=1 -timeout 15m ./internal/chcluster/
	# The SLA engine's state reads through a replica that lags for real (its fetches stopped).
	TEPLOKARTA_TEST_CH_CLUSTER=127.0.0.1:19610,127.0.0.1:19620 \
	  $(GO) test -count=1 -timeout 5m -run '^TestClusterStateReadsEveryReplica$$' ./processor/sla/

cluster-stop:
	deploy/local/cluster.sh stop
	$(SHARDS_2X1) deploy/local/cluster.sh stop
	$(SHARDS_2X2) deploy/local/cluster.sh stop

# plugin: the Grafana datasource, frontend (webpack) and backend (linux amd64 + arm64) in plugin/dist.
plugin:
	$(MAKE) -C plugin build

# model: the classifier the project ships, rebuilt bit for bit from the shared «Наш дом» data.
SHARED_DATA ?= ../shared/data
model:
	$(GO) run ./cmd/teplokarta train --data $(SHARED_DATA)/nashdom-ryazan/train.csv --out processor/classify/model/nashdom-ryazan.model.gz

# geo: the municipality boundaries (OpenStreetMap, ODbL) embedded for `teplokarta map`, copied from the
# shared data (internal/geo/data/README.md says where they come from and their licence).
geo:
	install -m 644 $(SHARED_DATA)/geo/ryazan-municipalities.geojson internal/geo/data/ryazan-municipalities.geojson

# cv: 5-fold cross-validation report of the classifier on the training data.
cv:
	$(GO) run ./cmd/teplokarta train --data $(SHARED_DATA)/nashdom-ryazan/train.csv --cv 5

# bench: every benchmark once, on the test stack (started and stopped here). Sizes come from the
# TEPLOKARTA_BENCH_* variables documented next to each benchmark; the README lists the measured numbers.
bench:
	@$(TEST_ENV) $(STACK) start
	@status=0; $(TEST_SERVERS) \
	  $(GO) test -run '^$$' -bench . -benchmem -benchtime 1x -timeout 60m $$($(GO) list ./... | grep -v /node_modules/) || status=$$?; \
	$(TEST_ENV) $(STACK) stop; exit $$status

# chaos: the fault suite (internal/chaos) on its own ClickHouse and Redis stacks: three lanes for the
# faults that keep the servers up (ports 19300/16579, 19320/16599, 19330/16609) and two for those that stop
# or wipe a server (19310/16589, 19340/16619), all five at once: SIGKILLed processors (also between an INSERT and its status
# events), a rebalance with a killed member, three processors with one joining and one leaving, ingest
# SIGKILLed while the stream arrives over HTTP, the broker restarted from its data dir, ClickHouse killed
# and down for 60 s, Redis restarted without its data — each CHAOS_RUNS times (default 20) beside
# CHAOS_BURN busy processes (default 2). Prints a table and fails on any difference from the simulator's truth. Then the replicated
# ClickHouse test (test-cluster: a replica SIGKILLed mid-stream). Not part of `make test` (which keeps a
# short run of the faults). CHAOS_FLAGS passes more flags (`go run ./cmd/chaos -h`), e.g. --pprof 127.0.0.1:6061.
# CHAOS_PROCESS_FLAGS passes flags to every processor, e.g. "--dedup-state partition".
CHAOS_RUNS ?= 20
CHAOS_FLAGS ?=
CHAOS_PROCESS_FLAGS ?=
chaos: build
	$(GO) run ./cmd/chaos --bin bin/teplokarta --runs $(CHAOS_RUNS) --process-flags "$(CHAOS_PROCESS_FLAGS)" $(CHAOS_FLAGS)
	@status=0; $(MAKE) --no-print-directory test-cluster || status=$$?; $(MAKE) --no-print-directory cluster-stop; exit $$status

# bench-peer: one simulated backlog (BENCH_MESSAGES, default 1M) drained on this machine by ClickHouse's own
# Kafka engine + views (the peer) and by `teplokarta process`, alternating first over BENCH_ROUNDS (default 2),
# on a private ClickHouse, Redis and broker (.state/bench-peer, ports 19800/18823/16879/19892). Prints rates,
# CPU per message of each process, peak RSS, freshness and the ratio (internal/benchpeer, README).
BENCH_MESSAGES ?= 1000000
BENCH_ROUNDS ?= 2
BENCH_FRESHNESS ?= 50
# extra flags of `teplokarta process`, e.g. BENCH_PROCESS_FLAGS="--dedup-state local"
BENCH_PROCESS_FLAGS ?=
bench-peer: build
	TEPLOKARTA_TEST_BENCH_PEER=1 $(GO) test -count=1 -timeout 10m -run TestBenchPeerTiny ./internal/benchpeer/
	$(GO) run ./cmd/benchpeer --bin bin/teplokarta --messages $(BENCH_MESSAGES) --rounds $(BENCH_ROUNDS) --freshness $(BENCH_FRESHNESS) --process-flags "$(BENCH_PROCESS_FLAGS)"
