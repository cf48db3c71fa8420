# faultline: the two commands a newcomer runs are `make jepsen` and `make test`.
GO      ?= go
BIN     := bin/faultline
# Flags of the default test; override with `make jepsen JEPSEN_FLAGS="..."`.
JEPSEN_FLAGS ?= --target etcd --nodes 5 --workload register --nemesis partition,kill --time-limit 60

# Runs per scenario and release of `make regressions`.
REGRESSION_RUNS ?= 10

.PHONY: all build deps browser images jepsen test bench regressions clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/faultline

# deps installs what the images are made with: debootstrap, from Debian's apt.
deps:
	@command -v debootstrap >/dev/null 2>&1 || { \
		echo "installing debootstrap with apt"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; }

# browser installs Debian's chromium, in which the web UI's end-to-end
# test (cmd/faultline/serve_e2e_test.go) drives `faultline serve` headless.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing chromium with apt"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# images builds the base image (debootstrap + import) and every target image.
# Tags carry a content hash, so a second run rebuilds nothing.
images: build deps
	./$(BIN) images

# jepsen builds everything and runs the default test: 5-node etcd, register
# workload, partitions and kills, 60 s. The exit code is the verdict.
jepsen: images
	./$(BIN) test $(JEPSEN_FLAGS)

# test runs the whole suite: unit tests with the race detector, and the
# end-to-end tests against real containers and a headless chromium (they
# fail, never skip, without Docker or chromium). Packages run one at a time
# (-p 1): their clusters would otherwise compete for two cores and make
# timing figures noisy.
test: images browser
	@unformatted="$$(gofmt -l .)"; if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -race -count=1 -p 1 -timeout 80m ./...

# bench compares kvnode with etcd on the register workload with no faults
# and no rate limit, at 3 and 5 nodes: ok ops/s, p50 and p99 latency, and
# the kvnode/etcd ratios. FAULTLINE_BENCH_TIME, _ROUNDS and _CONCURRENCY
# tune it (see cmd/faultline/bench_test.go).
bench: images
	$(GO) test -tags bench -count=1 -v -run TestBenchTargets -timeout 120m ./cmd/faultline

# regressions runs every scenario of a real etcd bug on the release that had
# it and on the one that fixed it, REGRESSION_RUNS times each, and prints the
# track record's table (kept in store/regressions/). It builds the releases
# it needs, with gofail where a scenario arms failpoints. It exits 1 when a
# bug was caught in fewer than 80% of its runs or a fixed release was not
# valid in every run.
regressions: images
	./$(BIN) scenario regressions --test-count $(REGRESSION_RUNS)

clean:
	-./$(BIN) clean
	rm -rf bin
