# privsynth developer commands. Both `make demo` and `make test` create their own
# virtualenv (.venv) from pinned constraints, so they work on a fresh machine.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo-output

# tests run on WORKERS processes (pytest-xdist), a test module's tests on one worker (its
# fixtures run once); e.g. `make test-fast WORKERS=auto` on a bigger machine
WORKERS ?= 2
PYTEST := $(BIN)/pytest -n $(WORKERS) --dist loadscope

.PHONY: demo test test-fast test-all lint install clean

$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

install: $(BIN)/.installed

demo: $(BIN)/.installed
	mkdir -p $(DEMO_DIR)
	rm -f $(DEMO_DIR)/ledger.db  # a fresh demo budget each time (a real ledger is never reset)
	$(BIN)/privsynth synthesize examples/adult_sample.csv --epsilon 2 \
		--output $(DEMO_DIR)/adult_synthetic.csv --ledger $(DEMO_DIR)/ledger.db
	# fit once (spends ε), then sample the saved model as often as needed (spends nothing)
	$(BIN)/privsynth fit examples/adult_sample.csv --epsilon 1 --schema examples/adult_schema.yaml \
		--output $(DEMO_DIR)/adult.privsynth --ledger $(DEMO_DIR)/ledger.db --quiet
	$(BIN)/privsynth sample $(DEMO_DIR)/adult.privsynth -n 20000 \
		--output $(DEMO_DIR)/adult_more.parquet --ledger $(DEMO_DIR)/ledger.db --quiet
	$(BIN)/privsynth budget show adult_sample --ledger $(DEMO_DIR)/ledger.db
	$(BIN)/privsynth lineage examples/adult_sample.csv --ledger $(DEMO_DIR)/ledger.db
	# audit against the GDPR policy (8,000 holdout rows: enough for a conclusive verdict, see
	# the report's power calculation); exit 5 (a policy failed) is a verdict, not a demo failure
	$(BIN)/privsynth audit --real examples/adult_sample.csv \
		--synthetic $(DEMO_DIR)/adult_synthetic.csv --holdout examples/adult_holdout_8k.csv \
		--target income --quasi-identifiers age,sex,race,marital-status --sensitive income \
		--policy gdpr-anonymisation --ledger $(DEMO_DIR)/ledger.db --dataset adult_sample \
		-o $(DEMO_DIR)/report; status=$$?; [ $$status -eq 0 ] || [ $$status -eq 5 ]
	# free text: clinical notes whose text follows each synthetic row's specialty (DP-SGD, CPU)
	$(BIN)/privsynth synthesize examples/notes_sample.csv --text-column transcription \
		--condition-on medical_specialty --epsilon 4 -n 40 --text-option epochs=4 \
		--output $(DEMO_DIR)/notes_synthetic.csv --ledger $(DEMO_DIR)/ledger.db --quiet
	@echo "synthetic data: $(DEMO_DIR)/adult_synthetic.csv   model: $(DEMO_DIR)/adult.privsynth" \
		"  ledger: $(DEMO_DIR)/ledger.db   report: $(DEMO_DIR)/report/report.html" \
		"  synthetic notes: $(DEMO_DIR)/notes_synthetic.csv"

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy privsynth

# lint, the fast set, then the slow set (notebooks, tests that start processes, end to end)
test: lint
	$(PYTEST) -m "not slow"
	$(PYTEST) -m slow

# the development loop: lint and the fast set only
test-fast: lint
	$(PYTEST) -m "not slow"

test-all: test

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache
