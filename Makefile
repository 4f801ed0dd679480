# Two commands for a newcomer: `make lab` and `make test`. Everything else is for developers.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.labkit-installed
NOTEBOOKS := $(wildcard notebooks/*.ipynb)
PYTEST_NB := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg --nbval-cell-timeout=600

.PHONY: lab test install test-fast notebooks typecheck bench clean

# (Re)install only when the package definition changed, so both commands work offline afterwards.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[lab,test]'
	touch $(STAMP)

install: $(STAMP)

## make lab: install labkit with the lab extras and open JupyterLab on the start-here notebook.
lab: $(STAMP)
	cd notebooks && ../$(BIN)/jupyter lab 00-start-here.ipynb

## make test: install if needed, then type-check and run every test, notebooks included.
test: $(STAMP)
	$(if $(NOTEBOOKS),$(BIN)/python tools/nb.py --check $(NOTEBOOKS))
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 --dist loadscope tests notebooks $(PYTEST_NB)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -x -q tests

notebooks: $(STAMP)
	$(BIN)/python tools/nb.py $(NOTEBOOKS)

typecheck: $(STAMP)
	$(BIN)/mypy

## make bench: run every benchmark script; each prints JSON lines.
bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache build *.egg-info
