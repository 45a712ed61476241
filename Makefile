# pqrbot — the commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test test-fast bench bench-quick lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: install
	$(BIN)/pqrbot run

# The layer contract and the types first (seconds), then the suite.
test: lint
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

test-fast: install
	$(BIN)/python -m pytest -q -x -m "not slow"

# Every benchmark, one JSON object per line on stdout (progress on stderr); ~12 minutes.
bench: install
	@$(BIN)/python -m bench
	@$(BIN)/python -m bench.email
	@$(BIN)/python -m bench.imap
	@$(BIN)/python -m bench.slack
	@$(BIN)/python -m bench.telegram
	@$(BIN)/python -m bench.outbox
	@$(BIN)/python -m bench.indicators
	@$(BIN)/python -m bench.web

# The same at 20,000 PQRs for the core bench: a check that every bench runs, in about 2 minutes.
bench-quick: install
	@$(BIN)/python -m bench --rows 20000
	@$(BIN)/python -m bench.email
	@$(BIN)/python -m bench.telegram
	@$(BIN)/python -m bench.outbox
	@$(BIN)/python -m bench.indicators --rows 20000

# import-linter: the layer rules of pyproject.toml ([tool.importlinter]); mypy --strict.
lint: install
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/python -m mypy

clean:
	rm -rf $(VENV) data .pytest_cache
