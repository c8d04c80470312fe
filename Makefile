# genlab: two commands set everything up on a fresh machine (see README.md).
#   make run    install, train the default model (cached), run every track, write the report
#   make test   install, run the default test suite (< 10 min on 2 cores)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

CHROMIUM := /usr/bin/chromium

.PHONY: install browser run smoke test test-slow bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# torch is pinned exactly: a looser pin pulls a multi-GB CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The human-evaluation tests (tests/humaneval) drive Debian's chromium through
# Playwright; installed from Debian's registry only when missing.
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if ! command -v apt-get >/dev/null 2>&1; then \
	    echo "error: $(CHROMIUM) is missing and apt-get is unavailable: install the" \
	         "Debian package 'chromium' (or a Chromium at $(CHROMIUM)) for tests/humaneval" >&2; \
	    exit 1; \
	  fi; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO="sudo -n"; \
	  echo "installing chromium (apt-get) for the browser tests"; \
	  $$SUDO apt-get install -y -q chromium || \
	    { $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium; } || \
	    { echo "error: apt-get could not install 'chromium'; install it (as root:" \
	           "apt-get install chromium) for tests/humaneval" >&2; exit 1; }; \
	fi

run: install
	$(BIN)/genlab run

smoke: install
	$(BIN)/genlab run --profile smoke

test: install browser
	$(BIN)/python -m pytest

test-slow: install
	$(BIN)/python -m pytest -m slow

bench: install
	$(BIN)/python bench/run_all.py

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src

clean:
	rm -rf genlab-out .pytest_cache
