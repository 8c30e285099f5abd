# Every target wraps a plain go command; README.md shows the same commands.

FUZZTIME ?= 30s
# The staticcheck release .ci/run uses too.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.DEFAULT_GOAL := help
.PHONY: help test lint fuzz bench demo

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{ printf "  %-6s %s\n", $$1, $$2 }'

test: ## run all tests with the race detector
	go test -race ./...

lint: ## check formatting with gofmt, run go vet and staticcheck
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt -l found unformatted files:"; echo "$$out"; exit 1; fi
	go vet ./...
	go run $(STATICCHECK) ./...

fuzz: ## run every fuzz target in the module for FUZZTIME (default 30s)
	@set -e; for pkg in $$(grep -rl --include='*_test.go' '^func Fuzz' . | grep -v '^./bench/' | xargs -n1 dirname | sort -u); do \
		for name in $$(go test -list '^Fuzz' $$pkg | sed -n '/^Fuzz/p'); do \
			echo "go test -run '^\$$' -fuzz '^$$name\$$' -fuzztime $(FUZZTIME) $$pkg"; \
			go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

bench: ## run the benchmarks against other encoders (the bench module)
	cd bench && go test -run '^$$' -bench . -benchmem

demo: ## run the tour of glyph
	go run ./cmd/glyph demo
