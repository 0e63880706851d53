# Developer entry points. `make test` is what CI runs (.ci/run).
# Other areas add targets in infra/*.mk, included at the end.

GO      ?= go
ROLE    ?= ADMIN
USER_ID ?=

.PHONY: test lint fmt-check vet generate run token ddb-local

test: lint
	$(GO) test -race -count=1 ./...

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

run:
	$(GO) run ./cmd/local

token:
	@$(GO) run ./cmd/devtoken -role $(ROLE) $(if $(USER_ID),-user $(USER_ID))

# Pre-fetches DynamoDB Local (56 MB via npm) into the user cache, outside the repo.
ddb-local:
	@$(GO) run ./infra/ddblocal/cmd/fetch

-include infra/*.mk
