# OpenLSC developer tasks (GNU make).
#
#   make run            demo server: SQLite, built-in OpenID provider, dev mailbox
#   make build          bin/openlsc, version from `git describe` when available
#   make test           unit + browser tests on SQLite
#   make test-postgres  the same tests against PostgreSQL (see OPENLSC_TEST_DATABASE_URL)
#   make lint           gofmt, go vet, staticcheck (a go.mod tool), persistence
#                       in models/ only and a tidy go.mod (.ci/persistence-lint)
#   make screenshots    the README's screenshots (frontend/screenshots), from the browser tests
#   make bench          benchmarks only
#   make bench-authz    the authorization report at 1M grants
#   make bench-http     req/s and p50/p99 of the main routes over HTTP, next to a bare gin handler
#   make bench-activation  online activations (new, repeat, refused) at 64 connections on SQLite
#                       and PostgreSQL: req/s, p50/p99, CPU per request, next to a bare gin handler
#   make bench-import   time and peak memory of `openlsc import` of 100k and 1M keys, SQLite and PostgreSQL
#   make compose-check  validate docker-compose.yml offline
#   make compose-s3-check  run docker-compose.yml's SeaweedFS object store natively (weed built
#                       once into WEED_CACHE, outside the repository; slow) and download through
#                       the replicas' OPENLSC_STORAGE_URL: redirect and stream, Range and resume
#   make fuzz           every fuzz target in turn, FUZZTIME each (make fuzz FUZZTIME=3m)
#   make clean

GO      ?= go
GOFMT    = $(shell $(GO) env GOROOT)/bin/gofmt
COMPOSE ?= docker-compose

# go-sqlite3 (gorm.io/driver/sqlite) needs cgo; without it the binary panics at run time.
export CGO_ENABLED = 1

VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS ?= -X main.version=$(VERSION)

# Admin URL of a PostgreSQL server; the test helpers create and drop one
# throwaway database per test package through it.
OPENLSC_TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable

.DEFAULT_GOAL := build
.PHONY: run build browser-deps test test-postgres lint screenshots bench bench-authz bench-http bench-activation bench-import bench-sqlite compose-check compose-s3-check clean

run:
	$(GO) run ./cmd/openlsc serve --dev

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/openlsc ./cmd/openlsc

# `env -u` keeps a PostgreSQL URL from the caller's environment out of the SQLite run.
# axe-core for the browser tests (pinned in frontend/browsertest/package-lock.json).
AXE = frontend/browsertest/node_modules/axe-core/axe.min.js

$(AXE): frontend/browsertest/package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix frontend/browsertest --no-audit --no-fund; \
	else echo "npm not found: the browser tests need axe-core (apt-get install npm)"; fi

browser-deps: $(AXE)

test: browser-deps
	env -u OPENLSC_TEST_DATABASE_URL $(GO) test -race -count=1 ./...
	@$(GO) run ./frontend/browsertest/check

test-postgres: browser-deps
	OPENLSC_TEST_DATABASE_URL='$(OPENLSC_TEST_DATABASE_URL)' $(GO) test -race -count=1 ./...
	@$(GO) run ./frontend/browsertest/check

# gofmt skips testdata (fixtures need not be valid Go) and fails on any output.
lint:
	@echo "gofmt -l"
	@files=$$(find . -name '*.go' -not -path './.git/*' -not -path './vendor/*' -not -path '*/testdata/*'); \
	if [ -n "$$files" ]; then \
		out=$$($(GOFMT) -l $$files) || exit 1; \
		if [ -n "$$out" ]; then echo "gofmt: not formatted (run gofmt -w):"; echo "$$out"; exit 1; fi; \
	fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@echo ".ci/persistence-lint"
	@GO='$(GO)' .ci/persistence-lint

# The README's screenshots of the main pages, English and Japanese, desktop
# and phone width, taken by the browser test that visits every page (needs
# Chromium and axe-core: npm ci --prefix frontend/browsertest).
screenshots: browser-deps
	rm -rf frontend/screenshots && mkdir -p frontend/screenshots
	env -u OPENLSC_TEST_DATABASE_URL OPENLSC_SCREENSHOTS=$(CURDIR)/frontend/screenshots $(GO) test -count=1 -run '^TestBrowserEveryPage$$' ./cmd/openlsc/

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The authorization report at 100k licences, 200k users and 1M grants
# (about 1-2 minutes; PostgreSQL too when OPENLSC_TEST_DATABASE_URL is set).
bench-authz:
	$(GO) test -run '^$$' -bench Authz1M -benchtime=1x -timeout 30m ./authz/

# The HTTP report: a generated data set (20k agreements, one MBSA with 5,000
# enrollments, 2,000 users, 10k grants; sizes through OPENLSC_BENCH_* as
# documented on TestBenchHTTP), the real server, 1/8/64 connections, each
# route next to a bare gin handler. SQLite by default;
# OPENLSC_BENCH_DATABASE_URL=postgres://… for PostgreSQL (an empty database).
bench-http:
	OPENLSC_BENCH_HTTP=1 $(GO) test -v -run '^TestBenchHTTP$$' -count=1 -timeout 30m ./cmd/openlsc/

# Online activations over loopback HTTP (api/activation_bench_test.go): 64
# connections (OPENLSC_BENCH_CONNS) × 30 requests (OPENLSC_BENCH_REQUESTS) per
# scenario, all on one MAK, next to a bare gin handler in the same run; on
# SQLite, then on PostgreSQL (OPENLSC_TEST_DATABASE_URL). About 1-2 minutes.
bench-activation:
	env -u OPENLSC_TEST_DATABASE_URL OPENLSC_ACTIVATION_BENCH=1 $(GO) test -v -count=1 -run '^TestActivationBench$$' ./api/
	OPENLSC_TEST_DATABASE_URL='$(OPENLSC_TEST_DATABASE_URL)' OPENLSC_ACTIVATION_BENCH=1 $(GO) test -v -count=1 -run '^TestActivationBench$$' ./api/

# `openlsc import` (the real binary) of generated documents of 20k agreements
# with 100k keys and 200k agreements with 1M keys, each into a new database:
# wall time, CPU time and peak RSS, on SQLite and then on PostgreSQL (about
# 10 minutes; other sizes with OPENLSC_BENCH_IMPORT_SIZES=200000x5,...).
bench-import: build
	OPENLSC_BENCH_BINARY='$(CURDIR)/bin/openlsc' env -u OPENLSC_TEST_DATABASE_URL \
		$(GO) test -v -run '^TestBenchImport$$' -count=1 -timeout 60m ./cmd/openlsc/
	OPENLSC_BENCH_BINARY='$(CURDIR)/bin/openlsc' OPENLSC_TEST_DATABASE_URL='$(OPENLSC_TEST_DATABASE_URL)' \
		$(GO) test -v -run '^TestBenchImport$$' -count=1 -timeout 60m ./cmd/openlsc/

# SQLite under load: `openlsc import` (another process) loads 100k agreements
# and 200k keys into a running server's database while 16 clients read and
# write over HTTP; prints latency percentiles and statuses (about a minute).
bench-sqlite: build
	OPENLSC_BENCH_BINARY='$(CURDIR)/bin/openlsc' env -u OPENLSC_TEST_DATABASE_URL \
		$(GO) test -run '^$$' -bench SQLiteUnderImport -benchtime=1x -timeout 20m ./api/

# docker-compose.yml refuses to start without real secrets (${VAR:?message}).
# This target only checks the file's syntax and structure offline, so it
# supplies obviously fake values for exactly those variables, for this command
# only; they never reach a running deployment.
compose-check:
	OPENLSC_SECRET_KEY=compose-check-only-not-a-real-secret-0000 \
	OPENLSC_OIDC_CLIENT_SECRET=compose-check-only \
	POSTGRES_PASSWORD=compose-check-only \
	KEYCLOAK_ADMIN_PASSWORD=compose-check-only \
	S3_ACCESS_KEY=compose-check-only S3_SECRET_KEY=compose-check-only \
	$(COMPOSE) -f docker-compose.yml config -q

# The compose deployment's object store without Docker: TestComposeS3Downloads
# reads the s3 and s3-init services and the replicas' OPENLSC_STORAGE_URL from
# docker-compose.yml and runs them with a native weed (SeaweedFS). `go install`
# refuses SeaweedFS's module (its go.mod has replace directives), so weed is
# built inside the downloaded module, into WEED_CACHE (several minutes, once).
# Not part of `make test`: building weed is too slow for CI.
WEED_MODULE  ?= github.com/seaweedfs/seaweedfs
WEED_VERSION ?= v0.0.0-20261109003541-7506e5f91cd6
WEED_CACHE   ?= $(HOME)/.cache/openlsc/weed-$(WEED_VERSION)
WEED          = $(WEED_CACHE)/weed

$(WEED):
	mkdir -p '$(WEED_CACHE)'
	cd '$(WEED_CACHE)' && dir=$$(GOFLAGS= $(GO) mod download -json '$(WEED_MODULE)@$(WEED_VERSION)' | \
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p') && test -n "$$dir" && \
		cd "$$dir" && GOFLAGS= nice -n 10 $(GO) build -o '$(WEED).tmp' ./weed
	mv '$(WEED).tmp' '$(WEED)'

compose-s3-check: $(WEED)
	OPENLSC_WEED='$(WEED)' env -u OPENLSC_TEST_DATABASE_URL \
		$(GO) test -v -count=1 -run '^TestComposeS3Downloads$$' -timeout 10m ./cmd/openlsc/

# Fuzzing runs one target at a time with FUZZ_WORKERS workers (the machine
# may be shared), on SQLite; new crashers land in the package's
# testdata/fuzz/<Target>/ and then run with `go test` like the seeds.
FUZZTIME     ?= 1m
FUZZ_WORKERS ?= 1
FUZZ_TARGETS  = ./models:FuzzImportDecode ./models:FuzzImportValidate ./api:FuzzAPIBody
.PHONY: fuzz
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "== $$name in $$pkg for $(FUZZTIME)"; \
		env -u OPENLSC_TEST_DATABASE_URL $(GO) test -run '^$$' -fuzz "^$$name\$$" \
			-fuzztime $(FUZZTIME) -parallel $(FUZZ_WORKERS) $$pkg; \
	done

clean:
	rm -rf bin/ coverage.out coverage.html cover.out *.coverprofile
