# coverage-analysis: `make help` lists the targets.
# Two commands matter for a new user: `make report` and `make test`.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RAW ?= data/raw
PROCESSED ?= data/processed
OUT ?= reports
FIGURES ?= figures
JOBS ?= 2
LANG_REPORT ?= en
SEED ?= 2016

.DEFAULT_GOAL := help
.PHONY: help setup system-deps sample data panel model report test test-fast lint lab benchmarks clean-data clean-reports

## Show this help
help:
	@awk 'BEGIN{FS=":.*"} /^## /{doc=substr($$0,4); next} /^[a-zA-Z_-]+:/{if(doc){printf "  \033[1m%-14s\033[0m %s\n", $$1, doc}; doc=""}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,lab]'
	@touch $(STAMP)

## Create the virtual environment and install the package (reused when up to date)
setup: $(STAMP) system-deps

## Install the system libraries PDF export needs (pango, DejaVu fonts) if missing
system-deps:
	@bash scripts/system-deps.sh

## Write the synthetic sample raw data set to RAW (default data/raw)
sample: $(STAMP)
	$(BIN)/coverage-analysis sample --raw $(RAW) --seed $(SEED)

## Clean RAW into PROCESSED (writes the sample first if RAW holds no spreadsheets)
data: $(STAMP)
	@if ! find $(RAW) -type f \( -iname '*.xlsx' -o -iname '*.xlsm' -o -iname '*.xls' -o -iname '*.ods' -o -iname '*.csv' \) 2>/dev/null | grep -q .; then \
	  echo "No spreadsheets in $(RAW): writing the synthetic sample data set there."; \
	  $(BIN)/coverage-analysis sample --raw $(RAW) --seed $(SEED); \
	fi
	$(BIN)/coverage-analysis clean --raw $(RAW) --processed $(PROCESSED)

## Build the district x month panel
panel: data
	$(BIN)/coverage-analysis panel --processed $(PROCESSED)

## Fit the coverage models (model_summary.json)
model: panel
	$(BIN)/coverage-analysis model --processed $(PROCESSED)

## Set up, clean the data and produce the region and district reports in OUT
report: setup model
	$(BIN)/coverage-analysis report --processed $(PROCESSED) --out $(OUT) --figures $(FIGURES) --jobs $(JOBS) --lang $(LANG_REPORT)
	@echo "Open $(OUT)/index.html"

## Set up and run the test suite (two pytest-xdist workers, each test file on one worker so
## that a module's cluster or sample fixture is built once)
test: setup
	$(BIN)/python -m pytest -q -n 2 --dist loadfile --durations=15 --doctest-modules src tests

## Set up and run the suite without the tests marked slow (notebooks, wheel install)
test-fast: setup
	$(BIN)/python -m pytest -q -n 2 --dist worksteal -m "not slow" --doctest-modules src tests

## Check style with ruff
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

## Start JupyterLab on notebooks/ (the package's own templates; standard python3 kernel)
lab: setup
	$(BIN)/jupyter lab --notebook-dir=notebooks

## Run the benchmarks (prints ratios against baselines measured in the same run)
benchmarks: setup
	$(BIN)/python benchmarks/bench_clean.py
	$(BIN)/python benchmarks/bound_clean.py
	$(BIN)/python benchmarks/bench_panel.py
	$(BIN)/python benchmarks/validate_model.py
	$(BIN)/python benchmarks/bench_model.py
	$(BIN)/python benchmarks/bench_report.py
	$(BIN)/python benchmarks/bench_startup.py
	$(BIN)/python benchmarks/bench_national.py   # 10,000,000 rows: ~16 min, ~7 GB; includes bench_dask.py

## Delete generated data (raw sample, processed tables) and figures; keeps .gitkeep
clean-data:
	find $(RAW) $(PROCESSED) $(FIGURES) -mindepth 1 ! -name .gitkeep -exec rm -rf {} +

## Delete generated reports
clean-reports:
	find $(OUT) -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
