# `make report` and `make test` set everything up in .venv and run; nothing is
# installed outside the project folder.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
SAMPLE := data/sample/township.csv
OUT ?= reports/sample

.PHONY: setup bytecode report test lab bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# uv installs the same set as pip, several times faster; pip is the fallback.
	# Bytecode is compiled at install: where PYTHONDONTWRITEBYTECODE is set, every
	# kernel would otherwise compile pandas and scipy again, doubling a report's time.
	$(PY) -m pip install --quiet --disable-pip-version-check uv \
	  && $(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(PY) -e '.[dev]' \
	  || $(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# The package's own bytecode, written once: where PYTHONDONTWRITEBYTECODE is set, every
# process (the report, each kernel) would compile src/analysis again, about 0.3 CPU-s each.
# compileall skips files whose bytecode is up to date.
bytecode: setup
	@$(PY) -m compileall -q src/analysis

report: setup bytecode
	$(VENV)/bin/workbench report $(SAMPLE) -o $(OUT)
	@echo "Open $(OUT)/index.html"

test: setup bytecode
	$(PY) -m pytest tests
	$(PY) -m pytest --nbval-lax --nbval-current-env notebooks -p no:cacheprovider

lab: setup
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

bench: setup bytecode
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) reports/sample
