# privsynth developer commands. Both `make demo` and `make test` create their own
# virtualenv (.venv) from pinned constraints, so they work on a fresh machine.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo-output

.PHONY: demo test test-all lint install clean

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

install: $(BIN)/.installed

demo: $(BIN)/.installed
	mkdir -p $(DEMO_DIR)
	$(BIN)/privsynth synthesize examples/adult_sample.csv --epsilon 2 \
		--output $(DEMO_DIR)/adult_synthetic.csv --ledger $(DEMO_DIR)/ledger.db
	$(BIN)/privsynth budget show adult_sample --ledger $(DEMO_DIR)/ledger.db
	@echo "synthetic data: $(DEMO_DIR)/adult_synthetic.csv   ledger: $(DEMO_DIR)/ledger.db"

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy privsynth

test: lint
	$(BIN)/pytest -m "not slow"

test-all: lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
