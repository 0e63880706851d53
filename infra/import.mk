# Customers in and out of a Rapport API with the command-line client
# (cmd/rapport, docs/import.md), and the import benchmark.

.PHONY: import export bench-import

# The client's flags (IMPORT_FLAGS='--dry-run --duplicates flag',
# EXPORT_FLAGS='--filter grade=A -o a.xlsx'), and who it signs in as:
# RAPPORT_TOKEN when set, else a dev token of USER_ID (default admin) from
# the local issuer (`make token`), which only `make run` trusts; the API is
# RAPPORT_URL when set, else `make run`'s address (PORT, default 8080).
IMPORT_FLAGS ?=
EXPORT_FLAGS ?=
RAPPORT_AS = RAPPORT_URL="$${RAPPORT_URL:-http://localhost:$${PORT:-8080}}" \
	RAPPORT_TOKEN="$${RAPPORT_TOKEN:-$$($(GO) run ./cmd/devtoken -user $(or $(USER_ID),admin) | tail -1)}"

# make import FILE=examples/import/customers.csv
import:
	@test -n "$(FILE)" || { echo "usage: make import FILE=customers.xlsx [IMPORT_FLAGS=--dry-run]" >&2; exit 1; }
	@$(RAPPORT_AS) $(GO) run ./cmd/rapport import $(IMPORT_FLAGS) "$(FILE)"

# make export EXPORT_FLAGS='--filter region=north -o north.xlsx'
export:
	@$(RAPPORT_AS) $(GO) run ./cmd/rapport export $(EXPORT_FLAGS)

# 100,000 generated rows (errors and duplicates sprinkled in) through
# importCustomers on its own DynamoDB Local and server: rows per second,
# request units per row, the report's counts, and what the stream consumer
# running beside it wrote. BENCH_IMPORT_FLAGS='-rows 10000 -rate 0' for
# fewer rows, unpaced; -stream=false leaves the stream unread; Ctrl-C
# prints the figures of the rows imported so far. Prints figures, asserts
# nothing.
BENCH_IMPORT_FLAGS ?=
bench-import:
	$(GO) run ./cmd/bench import $(BENCH_IMPORT_FLAGS)
