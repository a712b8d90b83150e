# maillog-forensics: the two commands a newcomer runs (see README.md).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
RUNTIME := $(VENV)/.runtime
STAMP  := $(VENV)/.installed
NATIVE := $(VENV)/.native
NATIVE_SRC := native/Cargo.toml native/Cargo.lock native/pyproject.toml native/core/Cargo.toml \
	$(wildcard native/src/*.rs native/core/src/*.rs native/python/maillog_native/*)
SAMPLE := data/sample/mail.log
export MPLBACKEND := Agg

.PHONY: report test lint e2e bench clean

# what the report needs (no test or lint tools, no Dask)
$(RUNTIME): pyproject.toml jupyter/overrides.json
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	# JupyterLab of this venv opens notebooks/*.py as notebooks on a double click
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp jupyter/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	touch $(RUNTIME)

# the native ingest core (native/, Rust): pip builds it with maturin (cargo from crates.io)
$(NATIVE): $(RUNTIME) $(NATIVE_SRC)
	$(PY) -m pip install --quiet ./native
	touch $(NATIVE)

# the dev extras on top: pytest, hypothesis, ruff, mypy, import-linter, Dask
$(STAMP): $(RUNTIME)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## make report: set up, ingest the bundled sample, run the report notebooks into HTML
report: $(NATIVE)
	rm -rf reports
	$(VENV)/bin/maillog-forensics report $(SAMPLE) -o reports --tz UTC --year 2026
	$(VENV)/bin/maillog-forensics summary reports/dataset

## make test: set up with dev extras and run the test suite
test: $(STAMP) $(NATIVE)
	$(PY) -m pytest -q

## make e2e: a real Postfix + Dovecot/Cyrus on loopback under a scripted attack (root; apt-get)
e2e: $(STAMP) $(NATIVE)
	$(PY) -m pytest -q -m e2e tests/e2e

lint: $(STAMP) $(NATIVE)
	$(VENV)/bin/ruff check maillog_forensics tests scripts notebooks
	$(VENV)/bin/ruff format --check maillog_forensics tests scripts notebooks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	cd native && cargo fmt --check && cargo clippy --quiet --offline --all-targets -- -D warnings \
		&& cargo test --quiet --offline -p maillog-core

bench: $(STAMP) $(NATIVE)
	$(PY) scripts/bench_ingest.py --lines 1000000

clean:
	rm -rf $(VENV) reports .pytest_cache .mypy_cache .ruff_cache native/target
