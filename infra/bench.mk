# Measurements of cost, cold start and request overhead (issue-level
# figures, docs/access-patterns.md "Measured"). Each prints figures and
# asserts nothing; `make test` runs none of them. They start their own
# DynamoDB Local; run them on an otherwise quiet machine.

.PHONY: bench-capacity bench-coldstart bench-overhead bench-search build-EmptyHandler build-DynamoHandler

# Request units every operation consumes (table and each index), and its
# cost per million at on-demand prices. BENCH_FLAGS=-detail also lists
# every item each write wrote, with its size.
BENCH_FLAGS ?=
bench-capacity:
	$(GO) run ./cmd/bench capacity $(BENCH_FLAGS)

# Each function bootstrap's size and init time through a fake Lambda
# Runtime API (30 starts each, medians), beside an empty aws-lambda-go
# handler built with the same flags in the same run.
bench-coldstart:
	$(GO) test -run '^$$' -bench '^BenchmarkColdStart$$' -benchtime 1x ./deploy

# The customer 360 and a list of 50 through HTTP, token check and GraphQL,
# against the same DynamoDB calls made directly, interleaved: p50 and p90.
# BENCH_FLAGS="-profile dir" also writes a CPU profile of each read.
bench-overhead:
	$(GO) run ./cmd/bench overhead $(BENCH_FLAGS)

# The reference handlers of bench-coldstart, built exactly as the functions
# are (infra/lambda.mk's flags): an empty one, and one that only builds a
# DynamoDB client at init.
build-EmptyHandler build-DynamoHandler: build-%Handler:
	$(if $(ARTIFACTS_DIR),,$(error ARTIFACTS_DIR is not set: pass ARTIFACTS_DIR=dir))
	CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_GOARCH) go build $(LAMBDA_GOFLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./deploy/testdata/$(shell echo $* | tr A-Z a-z)handler

# Search and screen pop at scale: loads BENCH_CUSTOMERS (default 100,000)
# generated customers into its own DynamoDB Local in steps (the items
# createCustomer writes, and what the stream consumer derives from them,
# checked with CheckInvariants), then prints search and customerByPhone
# latency percentiles and DynamoDB calls per request after each step
# (docs/access-patterns.md, "Search at scale"). About an hour on a busy
# 2-core machine.
BENCH_CUSTOMERS ?= 100000
bench-search:
	RAPPORT_BENCH_CUSTOMERS=$(BENCH_CUSTOMERS) $(GO) test -run '^$$' -bench '^BenchmarkSearchAtScale$$' -benchtime 1x -timeout 4h ./dynamo
