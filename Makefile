# Calculus for Machine Learning: build the book and test the package.
#   make book   create .venv, install, execute every page, build the HTML site
#   make test   create/update .venv and run the whole test suite (book build included)
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements/constraints.txt
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
PORT ?= 8000

.PHONY: help book serve test test-fast lint lint-code lint-workflows pdf clean clean-all lock check-python bench linkcheck set-repository

help:
	@echo "make book | serve | test | test-fast | lint | pdf | bench | linkcheck | set-repository | lock | clean | clean-all"

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null || \
	  { echo "error: calcml needs Python 3.11 or newer, but '$(PYTHON)' is $$($(PYTHON) --version 2>&1 || echo missing); run e.g. 'make PYTHON=python3.11 ...'" >&2; exit 1; }

# The virtual environment is rebuilt when pyproject.toml or the lock file change.
$(STAMP): pyproject.toml $(LOCK) | check-python
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e '.[book,test]'
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "error: npm (Node.js) is needed for MathJax: apt-get install nodejs npm" >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

book: $(STAMP) $(NODE_STAMP)
	$(BIN)/python scripts/build_book.py

serve:
	@test -f _build/html/index.html || { echo "error: no site yet: run 'make book' first" >&2; exit 1; }
	@echo "Serving the book on http://127.0.0.1:$(PORT)/ (Ctrl-C stops)"
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

# tests/test_workflows.py runs check-jsonschema and zizmor, so the lint step after the
# tests checks only the code.
test: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest --cov=calcml --cov-branch --cov-report=term-missing:skip-covered --cov-fail-under=95
	$(MAKE) --no-print-directory lint-code

# The unit tests only, without the book build: for quick iterations on src/.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not book and not browser and not pdf and not binder" -q

# ruff and mypy on every Python file (package, tests, scripts, benchmarks, the book's
# Sphinx extensions), then the GitHub workflows.
LINTED := src tests scripts benchmarks book/_ext
lint: lint-code lint-workflows

lint-code: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

lint-workflows: $(STAMP)
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/zizmor --offline --quiet .github/workflows/*.yml

pdf: $(STAMP) $(NODE_STAMP)
	$(BIN)/python scripts/build_book.py --builder pdflatex
	@echo "The PDF is at _build/latex/book.pdf"

# Benchmarks (never part of make test): builds in a temporary copy of the repository, then
# accuracy, cost and the test-fast wall time; writes benchmarks/README.md. For a quick
# development run: make bench BENCH_ARGS=--quick (see benchmarks/report.py for the flags).
BENCH_ARGS ?=
bench: $(STAMP) $(NODE_STAMP)
	$(BIN)/python benchmarks/report.py $(BENCH_ARGS)

# External links, checked by Sphinx's own linkcheck builder (maintained: retries, redirects,
# anchors, rate limits, ignore lists), which replaced a hand-written checker. It checks the
# links written in the pages; the theme's buttons (GitHub, Binder, Colab, PDF) are built from
# repository.url and checked offline by tests/test_site_downloads.py. Not part of `make
# test` (the test machines are offline) and never failing: read _build/linkcheck/output.txt.
linkcheck: $(STAMP) $(NODE_STAMP)
	-$(BIN)/jupyter-book build . --builder linkcheck
	@echo "The report is in _build/linkcheck/output.txt (and output.json)"

# Point the book at another GitHub repository (README, "Publish your own copy"): writes
# repository.url in _config.yml, the one source, and its literal copies (each chapter's
# install cell, CITATION.cff). The site's address is derived from it at build time.
set-repository: $(STAMP)
	@test -n "$(URL)" || { echo "usage: make set-repository URL=https://github.com/<owner>/<repository>" >&2; exit 1; }
	$(BIN)/python scripts/set_repository.py "$(URL)"

# Refresh the lock file: resolve the newest allowed versions in a clean venv.
lock: check-python
	rm -rf $(VENV)-lock && $(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/python -m pip install --quiet --upgrade pip
	$(VENV)-lock/bin/python -m pip install --quiet -e '.[book,test]'
	@# The framework test's frameworks: .ci/run installs torch on Python 3.11 (a CPU wheel on
	@# disk) and JAX elsewhere (GitHub's runners), so the lock pins both.
	$(VENV)-lock/bin/python -m pip install --quiet -e '.[jax]'
	if $(VENV)-lock/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then \
	  $(VENV)-lock/bin/python -m pip install --quiet -e '.[torch]'; fi
	{ echo "# Generated by 'make lock' with $$($(VENV)-lock/bin/python --version); do not edit by hand."; \
	  $(VENV)-lock/bin/python -m pip freeze --exclude-editable | grep -v '^calcml'; } > $(LOCK)
	rm -rf $(VENV)-lock

clean:
	rm -rf _build build .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov

clean-all: clean
	rm -rf .jupyter_cache $(VENV) node_modules
