# Vox: two commands on a fresh Debian/Ubuntu machine.
#   make run    set up (system packages, venv, requirements) and start the app
#   make test   set up everything the tests need and run the whole suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install -q --disable-pip-version-check

.PHONY: run test bench bench-quick lint screenshots clean

$(VENV)/.run-deps: requirements.txt
	bash scripts/system-packages.sh run
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements.txt
	touch $@

$(VENV)/.test-deps: $(VENV)/.run-deps requirements-dev.txt requirements-turbo.txt
	bash scripts/system-packages.sh test
	$(PIP) -r requirements-dev.txt
	$(PIP) -r requirements-turbo.txt
	$(PIP) --no-deps chatterbox-tts==0.1.7
	touch $@

run: $(VENV)/.run-deps
	$(PY) app.py $(ARGS)

test: $(VENV)/.test-deps
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -ra $(PYTEST_ARGS)
	$(MAKE) --no-print-directory bench-quick

bench: $(VENV)/.test-deps
	$(PY) -m bench

bench-quick: $(VENV)/.test-deps
	$(PY) -m bench --quick

screenshots: $(VENV)/.test-deps
	$(PY) scripts/screenshots.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
