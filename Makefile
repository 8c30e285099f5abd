# Every target wraps a plain go command; README.md shows the same commands.

FUZZTIME ?= 30s

.DEFAULT_GOAL := help
.PHONY: help test lint fuzz bench demo

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{ printf "  %-6s %s\n", $$1, $$2 }'

test: ## run all tests with the race detector
	go test -race ./...

lint: ## check formatting with gofmt and run go vet
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt -l found unformatted files:"; echo "$$out"; exit 1; fi
	go vet ./...

fuzz: ## run each fuzz target in ./wire for FUZZTIME (default 30s)
	@set -e; names=$$(go test -list '^Fuzz' ./wire); \
	for name in $$(printf '%s\n' "$$names" | sed -n '/^Fuzz/p'); do \
		echo "go test -run '^\$$' -fuzz '^$$name\$$' -fuzztime $(FUZZTIME) ./wire"; \
		go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) ./wire; \
	done

bench: ## run the benchmarks against other encoders (the bench module)
	cd bench && go test -run '^$$' -bench . -benchmem

demo: ## run the tour of glyph
	go run ./cmd/glyph demo
