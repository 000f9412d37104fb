# Vox: two commands on a fresh Debian/Ubuntu machine.
#   make run    set up (system packages, venv, requirements) and start the app
#   make test   set up everything the tests need and run the whole suite
#   make serve  install Ray Serve, for engine replicas ([serve] replicas in config.toml)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install -q --disable-pip-version-check
# pytest-xdist workers: whole files per worker (module fixtures are shared), more workers than cores because much
# of the suite waits (servers starting, real-time audio, browsers); README "Tests" has the measurements.
WORKERS ?= 3
PYTEST := $(PY) -m pytest -q -n $(WORKERS) --dist loadfile --no-loadscope-reorder

.PHONY: run turbo serve test test-fast bench bench-quick screenshots clean

$(VENV)/.run-deps: requirements.txt
	bash scripts/system-packages.sh run
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements.txt
	touch $@

$(VENV)/.turbo-deps: $(VENV)/.run-deps requirements-turbo.txt
	$(PIP) -r requirements-turbo.txt
	$(PIP) --no-deps chatterbox-tts==0.1.7
	touch $@

$(VENV)/.serve-deps: $(VENV)/.run-deps requirements-serve.txt
	$(PIP) -r requirements-serve.txt
	touch $@

$(VENV)/.test-deps: $(VENV)/.turbo-deps $(VENV)/.serve-deps requirements-dev.txt
	bash scripts/system-packages.sh test
	$(PIP) -r requirements-dev.txt
	touch $@

turbo: $(VENV)/.turbo-deps  ## the Chatterbox engines (torch; several GB with CUDA)

serve: $(VENV)/.serve-deps  ## Ray Serve, for engine replicas ([serve] replicas)

run: $(VENV)/.run-deps
	$(PY) app.py $(ARGS)

test: $(VENV)/.test-deps
	$(VENV)/bin/ruff check .
	VOX_STRICT=1 $(PYTEST) -ra $(PYTEST_ARGS)
	$(MAKE) --no-print-directory bench-quick

FAST := not browser and not chatterbox and not speakers and not window and not serve and not whisper and not schemathesis
test-fast: $(VENV)/.test-deps  ## a developer's quick check: the slow groups (pyproject.toml markers) left out
	$(PYTEST) -m "$(FAST)" $(PYTEST_ARGS)

bench: $(VENV)/.test-deps
	$(PY) -m bench

bench-quick: $(VENV)/.test-deps
	$(PY) -m bench --quick

screenshots: $(VENV)/.test-deps
	$(PY) scripts/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
