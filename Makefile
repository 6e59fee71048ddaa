# Mắt Thần — the two commands of the README, and a few helpers.
#   make demo   set everything up and run the live demo (local Ray, synthetic cameras)
#   make test   set everything up (Debian + Python packages), lint and type-check, run the whole suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# What the tests need from Debian: GStreamer's RTSP server (run with Debian's python3),
# codecs for it, Prometheus/promtool for the monitoring tests, ffprobe (ffmpeg) for the recording
# tests, and Chromium with its WebDriver for the web console's browser tests (Selenium drives
# /usr/bin/chromedriver), and redis-server for the GCS fault-tolerance test (Ray's GCS keeps its
# tables in an external Redis, as the chart's gcsFaultTolerance option runs it).
TEST_DEBS := python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
	gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools prometheus ffmpeg \
	chromium chromium-driver redis-server
PYTEST_ARGS ?=

.PHONY: demo test lint venv system-python test-debs bench bench-capacity clean

demo: venv
	$(BIN)/matthan serve

test: test-debs venv lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Lint, format, types and the package import rules (config in pyproject.toml).
lint: venv
	$(BIN)/ruff check cluster tests bench
	$(BIN)/ruff format --check cluster tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml | system-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	touch $@

# A fresh Debian has python3 but not always venv/pip.
system-python:
	@if ! $(PYTHON) -c 'import venv, ensurepip' >/dev/null 2>&1; then \
		echo "installing python3-venv from Debian"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip; \
	fi

test-debs:
	@missing=$$(for p in $(TEST_DEBS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing from Debian: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

bench: venv
	$(BIN)/python -m bench.camera_throughput

# Issue 16's benchmarks in one go (64 cameras, 96-camera overload, detector, district
# simulation); about 40 minutes, on a machine with nothing else running.
bench-capacity: venv
	$(BIN)/python -m bench.capacity

clean:
	rm -rf $(VENV) var .pytest_cache
