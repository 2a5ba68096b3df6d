# pinapi: `make serve` runs the server with the demo dataset; `make test` runs every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install serve test lint typecheck pytest bench bench-ads bench-organic bench-engine bench-reports clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/pinapi serve --host 127.0.0.1 --port 8000

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy src tests bench

pytest: $(STAMP)
	$(BIN)/python -m pytest

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python bench/users_me.py

bench-ads: $(STAMP)
	$(BIN)/python bench/ads.py

bench-organic: $(STAMP)
	$(BIN)/python bench/pins.py

bench-engine: $(STAMP)
	$(BIN)/python bench/engine.py

bench-reports: $(STAMP)
	$(BIN)/python bench/reports.py
	$(BIN)/python bench/delivery_metrics.py

clean:
	rm -rf $(VENV) .pinapi .mypy_cache .pytest_cache .ruff_cache
