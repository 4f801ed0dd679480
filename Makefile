# Two commands for a newcomer: `make lab` and `make test`. Everything else is for developers.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
LAB_STAMP  := $(VENV)/.labkit-lab-installed
TEST_STAMP := $(VENV)/.labkit-test-installed
NOTEBOOKS := $(wildcard notebooks/*.ipynb)
PYTEST_NB := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg --nbval-cell-timeout=600

.PHONY: lab room test install test-fast notebooks typecheck bench clean

# (Re)install only when the package definition changed, so both commands work offline afterwards.
# A learner's `make lab` installs the lab extras only; `make test` adds the test tools.
$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(LAB_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install -q -e '.[lab]'
	touch $(LAB_STAMP)

$(TEST_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install -q -e '.[lab,test]'
	touch $(TEST_STAMP) $(LAB_STAMP)

# sigstore-js judges labkit's bundles (tests/js); installed only where npm exists, otherwise its test skips.
JS_STAMP := tests/js/node_modules/.labkit-installed
$(JS_STAMP): tests/js/package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/js --no-audit --no-fund --loglevel=error && touch $(JS_STAMP); \
	else echo "npm not found: the sigstore-js judge (tests/js) will be skipped"; fi

# JupyterHub's proxy (configurable-http-proxy) for the room server, from npm into tools/room (tests/test_room_hub.py).
ROOM_STAMP := $(VENV)/.labkit-room-installed
CHP_STAMP := tools/room/node_modules/.labkit-installed
$(ROOM_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install -q -e '.[lab,room]'
	touch $(ROOM_STAMP) $(LAB_STAMP)
$(CHP_STAMP): tools/room/package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --prefix tools/room --no-audit --no-fund --loglevel=error && touch $(CHP_STAMP); \
	else echo "npm not found: the room server (make room, tests/test_room_hub.py) needs configurable-http-proxy"; fi

install: $(TEST_STAMP)

## make lab: install labkit with the lab extras, write the learner copy of the course (exercises blank,
## notebooks/learner/, existing copies kept: tools/learner.py) and open JupyterLab on its start-here notebook.
## etc/jupyter_lab_config.py: no news feed, no update check, a read-only extension manager (no outside contact).
# Jupyter refuses to run as root (containers, CI images) unless told; only then is --allow-root added.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(LAB_STAMP)
	$(BIN)/python tools/learner.py
	cd notebooks/learner && ../../$(BIN)/jupyter lab $(ALLOW_ROOT) --config=../../etc/jupyter_lab_config.py 00-start-here.ipynb

## make room: one JupyterHub for a whole room (docs/workshop/room-server.md); LABKIT_ROOM_* variables configure it.
room: $(ROOM_STAMP) $(CHP_STAMP)
	$(BIN)/jupyterhub -f tools/room/jupyterhub_config.py

## make test: install if needed, then lint, type-check and run every test, notebooks included.
test: $(TEST_STAMP) $(JS_STAMP) $(CHP_STAMP)
	$(if $(NOTEBOOKS),$(BIN)/python tools/nb.py --check $(NOTEBOOKS))
	$(BIN)/ruff check labkit tests tools benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 --dist loadscope tests notebooks $(PYTEST_NB)

test-fast: $(TEST_STAMP)
	$(BIN)/python -m pytest -x -q tests

notebooks: $(TEST_STAMP)
	$(BIN)/python tools/nb.py $(NOTEBOOKS)

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

## make bench: run every benchmark script; each prints JSON lines.
bench: $(TEST_STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache build *.egg-info
