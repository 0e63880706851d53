# Rapport — the two commands a newcomer needs are `make run` and `make test`.

GO ?= go
ROLE ?= ADMIN

.PHONY: run test generate generate-check lint token ddb-local

run: ## serve the API with demo data on DynamoDB Local (GraphiQL at http://localhost:8080/)
	$(GO) run ./cmd/local

test: lint generate-check ## unit and integration tests, race detector on
	$(GO) test -race -count=1 ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

generate: ## regenerate gqlgen code from graph/*.graphqls
	$(GO) generate ./...

# Generated code must match the schema: regenerate and fail on any difference.
generate-check: generate
	@git diff --exit-code --stat -- graph resolvers || { echo "generated code is stale: run make generate and commit"; exit 1; }

token: ## print a dev token: make token ROLE=SALES USER_ID=sales-li TEAMS=north
	@$(GO) run ./cmd/devtoken -role $(ROLE) $(if $(USER_ID),-user $(USER_ID)) $(if $(TEAMS),-teams $(TEAMS))

ddb-local: ## download DynamoDB Local into the cache
	$(GO) run ./infra/ddblocal/cmd/fetch

-include infra/*.mk
