# pyrotorque: the two commands are `make demo` and `make test`; both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_SECONDS ?= 0
SOAK_MINUTES ?= 10
SOAK_LINE ?= 0.9.8
# Which real rTorrent lines the integration tests run against (see docs/compatibility.md).
RTORRENT_LINES ?= 0.9.8,0.16

.PHONY: all venv rtorrent prometheus sid-root test test-unit test-098 test-016 lint typecheck bench demo soak clean

all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# rTorrent 0.9.8 from Debian's packages (installed when missing and we are root).
rtorrent:
	@bash scripts/ensure-rtorrent.sh

# Prometheus from Debian's packages, only its binary (the Grafana dashboard test runs its own).
prometheus:
	@bash scripts/ensure-prometheus.sh

# rTorrent 0.16 from a Debian sid root, built once with debootstrap into .cache/.
sid-root:
	@bash scripts/build-sid-root.sh

test: venv rtorrent prometheus sid-root
	$(PY) -m pytest tests --rtorrent-lines=$(RTORRENT_LINES)

test-unit: venv
	$(PY) -m pytest tests/unit

test-098: venv rtorrent
	$(PY) -m pytest tests/integration --rtorrent-lines=0.9.8

test-016: venv sid-root
	$(PY) -m pytest tests/integration --rtorrent-lines=0.16

lint: venv
	$(VENV)/bin/ruff check src tests bench sandbox demo soak

typecheck: venv
	$(VENV)/bin/mypy

bench: venv rtorrent sid-root
	$(PY) -m bench --lines=$(RTORRENT_LINES)

demo: venv rtorrent
	$(PY) -m demo --seconds $(DEMO_SECONDS)

# Not part of CI: a long run against a failing rTorrent (docs/reliability.md has the figures).
soak: venv rtorrent sid-root
	$(PY) -m soak --minutes $(SOAK_MINUTES) --line $(SOAK_LINE)

clean:
	rm -rf $(VENV) .cache build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
