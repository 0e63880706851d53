# Lambda builds and deployment. The root Makefile includes this file
# (-include infra/*.mk); `sam build` runs `make build-<LogicalId>` in the
# repository root (template.yaml: CodeUri ".", BuildMethod makefile) with
# ARTIFACTS_DIR set to where the function's bootstrap must land.

# Lambda runs the functions on arm64 (Graviton); the deploy tests override
# LAMBDA_GOARCH to run the bootstraps on the host.
LAMBDA_GOARCH ?= arm64
# Static, reproducible, small: no cgo, no file paths or VCS stamps, no symbol
# tables, and lambda.norpc drops aws-lambda-go's legacy net/rpc server, which
# provided.al2023 never uses.
LAMBDA_GOFLAGS ?= -trimpath -buildvcs=false -tags lambda.norpc -ldflags='-s -w -buildid='

define lambda-build
	$(if $(ARTIFACTS_DIR),,$(error ARTIFACTS_DIR is not set: sam build sets it, or pass ARTIFACTS_DIR=dir))
	CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_GOARCH) go build $(LAMBDA_GOFLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./cmd/$(1)
endef

.PHONY: upgrade-indexes build-ApiFunction build-AuthorizerFunction build-JobFunction build-StreamFunction build-WebhookFunction deploy lint-template

build-ApiFunction:
	$(call lambda-build,api)

build-AuthorizerFunction:
	$(call lambda-build,authorizer)

build-JobFunction:
	$(call lambda-build,job)

build-StreamFunction:
	$(call lambda-build,stream)

build-WebhookFunction:
	$(call lambda-build,webhooks)

# First deployment: run `sam deploy --guided` once instead (docs/deploy.md);
# it writes the answers to samconfig.toml, which this target then reuses.
SAM_DEPLOY_FLAGS ?=
deploy:
	sam build
	sam deploy $(SAM_DEPLOY_FLAGS)

# Takes a stack made before the keys-only indexes through the index
# upgrade, one stack update per step, waiting for each index to be ACTIVE
# (docs/deploy.md, "Upgrading the table's indexes"):
#   make upgrade-indexes TABLE=<table> CONFIG_ENV=prod PARAMS="Stage=prod ..."
CONFIG_ENV ?= default
upgrade-indexes:
	$(if $(TABLE),,$(error TABLE is not set: pass the stack's table name))
	sam build
	$(GO) run ./infra/tables/cmd/upgrade -table $(TABLE) -config-env $(CONFIG_ENV) -params "$(PARAMS)"

lint-template:
	cfn-lint template.yaml
