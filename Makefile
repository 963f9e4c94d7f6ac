# Two commands on a fresh machine: `make demo` and `make test` (see README.md).
# Each sets up what is missing (system packages, then a virtual environment) and does its job.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
VG := $(VENV)/bin/voiceguide
OUT ?= out
DEMO ?= standing-reset

# Debian/Ubuntu packages: the system voice (espeak-ng), MP3 decoding for tests and custom sounds
# (ffmpeg), what building simpleaudio needs (gcc, Python and ALSA headers), and a headless browser
# for the phone page's tests (chromium, chromium-driver), and a QR decoder to read serve's codes in tests (zbar-tools).
APT_PACKAGES := espeak-ng ffmpeg libasound2-dev gcc python3-dev python3-venv chromium chromium-driver zbar-tools
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test test-quick lint bench system-deps clean
.DEFAULT_GOAL := demo

system-deps:
	@if command -v apt-get >/dev/null 2>&1; then \
	  missing=""; \
	  for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	  if [ -n "$$missing" ]; then \
	    echo "installing system packages:$$missing"; \
	    $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	  fi; \
	elif [ "$$(uname)" = Darwin ]; then \
	  command -v ffmpeg >/dev/null || echo "note: install ffmpeg (brew install ffmpeg) for tests and custom sounds"; \
	else \
	  echo "note: no apt-get here; install espeak-ng, ffmpeg and the ALSA headers with your package manager"; \
	fi

$(VENV)/.installed: pyproject.toml | system-deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[play]"
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install -q -e ".[play,test]"
	touch $@

demo: $(VENV)/.installed
	@mkdir -p $(OUT)
	$(VG) export $(DEMO) -o $(OUT)/$(DEMO).mp3 >/dev/null
	@echo "exported: $(OUT)/$(DEMO).mp3"
	@$(VG) play $(DEMO); status=$$?; \
	  if [ $$status -eq 3 ]; then echo "no sound device here: listen to $(OUT)/$(DEMO).mp3 instead"; \
	  elif [ $$status -ne 0 ]; then exit $$status; fi

test: $(VENV)/.installed-test lint
	$(PY) -m pytest

# The edit-test loop: the suite without the real voices, sound device, listener and wheel build, on every
# core (pytest-xdist; worksteal: a worker that runs out takes queued tests from the other, so one slow
# test near the end does not leave a core idle), with a quarter of the property tests' examples.  It writes Python's bytecode cache (__pycache__, ignored by git) even where
# PYTHONDONTWRITEBYTECODE is set: each worker and each command a test starts would compile the package again.
test-quick: $(VENV)/.installed-test
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -m "not real" -q -n auto --dist worksteal --hypothesis-profile=quick

lint: $(VENV)/.installed-test
	$(PY) -m ruff check
	$(PY) -m mypy

# bench/voices.py listens with pocketsphinx, from the test extra.
bench: $(VENV)/.installed-test
	$(PY) bench/run.py --long-pydub
	$(PY) bench/startup.py
	$(PY) bench/fit.py
	$(PY) bench/serve.py
	$(PY) bench/bed.py
	$(PY) bench/programme.py
	$(PY) bench/voices.py
	$(PY) bench/import.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
