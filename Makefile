# Forecourt: `make run` serves on SQLite, `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: run test fuzz check lock install install-dev clean browser translations screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamps re-run the install only when the locks or the package metadata change.
$(VENV)/.installed: $(BIN)/python requirements/main.txt pyproject.toml
	$(PIP) install -r requirements/main.txt
	$(PIP) install --no-deps -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements/dev.txt
	$(PIP) install -r requirements/dev.txt
	@touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	mkdir -p var
	$(BIN)/forecourt db upgrade
	$(BIN)/forecourt serve

test: install-dev browser
	$(BIN)/pytest $(PYTEST_ARGS)

# The browser tests (tests/browser) drive Debian's chromium through Playwright; never
# `playwright install` (no browser download). Installed here when missing (CI runs as root).
# Not root (a developer's machine): say so; the browser tests are then skipped.
browser:
	@test -x /usr/bin/chromium || { \
		if [ "$$(id -u)" != 0 ]; then echo "no /usr/bin/chromium: run 'sudo apt-get install chromium' for the browser tests"; exit 0; fi; \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Extract the workspace's messages from its templates and merge them into the catalogs
# (src/forecourt/web/locales/<language>/LC_MESSAGES/messages.po); then translate the
# new empty entries. The .po files are read at run time: nothing to compile.
translations: install-dev
	mkdir -p var
	$(BIN)/pybabel --quiet extract -F src/forecourt/web/babel.cfg --no-location --sort-output --omit-header \
		-o var/messages.pot src/forecourt/web
	$(BIN)/pybabel --quiet update -i var/messages.pot -d src/forecourt/web/locales --no-fuzzy-matching \
		--ignore-obsolete --ignore-pot-creation-date -w 100

# The workspace's screenshots in docs/screenshots/ (docs/workspace.md shows them), taken
# by the browser tests on SQLite.
screenshots: install-dev browser
	FORECOURT_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q tests/browser -k sqlite $(PYTEST_ARGS)
	@! find docs/screenshots -name '*.png' -size +200k | grep . || { echo "screenshots over 200 KB above"; exit 1; }

# Schemathesis at depth against every operation (`make test` runs a few examples of each),
# on SQLite and, when FORECOURT_TEST_DATABASE_URL is set, on PostgreSQL; prints the count.
FUZZ_EXAMPLES ?= 200
fuzz: install-dev
	rm -f var/fuzz-report.tsv && mkdir -p var
	FORECOURT_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FORECOURT_FUZZ_REPORT=var/fuzz-report.tsv \
		$(BIN)/pytest -q tests/e2e/test_openapi_fuzz.py $(PYTEST_ARGS); status=$$?; \
		awk -F'\t' '{n += $$3} END {print NR " operation runs, " n " requests fuzzed"}' var/fuzz-report.tsv; \
		exit $$status

check: install-dev
	$(BIN)/ruff check src tests $(wildcard bench tools)
	$(BIN)/ruff format --check src tests $(wildcard bench tools)
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/forecourt db check

# Regenerate the locks after changing dependencies in pyproject.toml.
lock: install-dev
	$(PIP) install pip-tools
	$(BIN)/pip-compile -q --strip-extras --no-header --no-emit-index-url --no-emit-find-links -o requirements/main.txt pyproject.toml
	$(BIN)/pip-compile -q --strip-extras --no-header --no-emit-index-url --no-emit-find-links --extra dev -o requirements/dev.txt pyproject.toml

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
