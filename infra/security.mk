# Abuse limits, fuzzing and load: measurements and explorations that `make
# test` does not run (it runs the fuzz targets' seed corpora only).

.PHONY: measure-limits fuzz load

# Prints what refusing each kind of oversized request costs the server
# (ms/request through the HTTP handler), and the largest accepted document.
measure-limits:
	$(GO) test -run '^$$' -bench Limits -benchtime 20x ./server

# Explores one fuzz target: make fuzz FUZZ=FuzzCustomerFilter PKG=./dynamo
# Targets: FuzzGraphQLDocument (./server), FuzzCustomerFilter and
# FuzzCustomerID (./dynamo), FuzzDecodeCursor (./dynamo). Each fuzz worker
# starts its own DynamoDB Local unless RAPPORT_DDB_ENDPOINT points at one.
FUZZ     ?= FuzzGraphQLDocument
PKG      ?= ./server
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz '^$(FUZZ)$$' -fuzztime $(FUZZTIME) -parallel 2 $(PKG)

# Drives mixed reads and writes for DURATION against its own DynamoDB Local
# and server, or TARGET (loopback only, e.g. a `make run` server at
# http://localhost:8080), then verifies every acknowledged write.
# OPERATIONS=N makes exactly N operations instead, however long they take.
DURATION ?= 20s
WORKERS  ?= 8
load:
	$(GO) run ./cmd/loadtest -duration $(DURATION) -workers $(WORKERS) $(if $(OPERATIONS),-operations $(OPERATIONS)) $(if $(TARGET),-target $(TARGET))
