# Two commands set everything up on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian runtime libraries Qt's platform plugins need (xcb for a desktop, EGL/GL/fonts for
# offscreen), Xvfb for screenshots and PostgreSQL for the database tests.
DEBIAN_PACKAGES := libegl1 libgl1 libglib2.0-0 libfontconfig1 libdbus-1-3 libxkbcommon0 \
	libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 \
	libxcb-randr0 libxcb-render-util0 libxcb-image0 libxcb-xinerama0 libxcb-xkb1 \
	libxrender1 libxi6 libsm6 libice6 xvfb xauth postgresql \
	orthanc orthanc-dicomweb iproute2 util-linux dicom3tools dcmtk
DB ?= sqlite:///$(CURDIR)/.local/reads.db
PROTOCOL ?= nct06779461

.PHONY: run test bench lint typecheck contracts pytest system-deps package package-test clean sample

# A fresh machine takes about a minute here: every step says what it is doing.
$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system-deps
	@test -x $(BIN)/python || { echo "creating the environment ($(VENV))…"; \
		$(PYTHON) -m venv $(VENV); }
	@echo "updating pip…"
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@echo "installing Python packages (about a minute)…"
	@$(BIN)/python -m pip install --quiet -e '.[test,package]'
	@touch $(STAMP)
	@echo "environment ready."

system-deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian packages (a minute or two): $$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
		echo "Some system libraries are missing. Install them with:"; \
		echo "  sudo apt-get install $$missing"; \
	fi

run: $(STAMP)
	@mkdir -p .local
	@echo "opening sample_dicom/ (database $(DB), protocol $(PROTOCOL))…"
	@$(BIN)/mrecist-reader sample_dicom --db '$(DB)' --protocol $(PROTOCOL)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

pytest: $(STAMP)
	QT_QPA_PLATFORM=offscreen PYTHONFAULTHANDLER=1 $(BIN)/python -m pytest -q -p no:cacheprovider

test: lint typecheck contracts pytest

bench: $(STAMP)
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

sample: $(STAMP)
	$(BIN)/python sample_dicom/generate.py

package: $(STAMP)
	$(BIN)/pyinstaller --noconfirm --clean --distpath dist --workpath build packaging/mrecist_reader.spec

package-test: package
	$(BIN)/python packaging/smoke_test.py dist/mrecist_reader

clean:
	rm -rf build dist .mypy_cache .ruff_cache .pytest_cache

# Demo of the trial endpoints (issue 18): a synthetic trial of 228 subjects in two arms
# (up to 3 TACE sessions, a scan every 30 days) and its report, written to .local/report/.
REPORT_DIR ?= .local/report
.PHONY: report
report: $(STAMP)
	@echo "writing a synthetic trial (228 subjects) to $(REPORT_DIR)/trial…"
	@$(BIN)/python -m mrecist_reader.analysis.synthetic $(REPORT_DIR)/trial
	@echo "deriving the endpoints and writing the report…"
	@$(BIN)/mrecist-reader endpoints --responses $(REPORT_DIR)/trial/responses.csv \
		--treatments $(REPORT_DIR)/trial/treatments.csv --arms $(REPORT_DIR)/trial/arms.csv \
		--protocol $(PROTOCOL) -o $(REPORT_DIR)/endpoints
	@echo "report: $(REPORT_DIR)/endpoints/report.pdf"
