# The two commands: `make demo` (the main job) and `make test` (every test). Both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test serve clean-indexes

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

demo: $(STAMP)
	$(PY) scripts/demo.py

# The browser tests drive Debian's Chromium with playwright-core (npm); nothing downloads a browser.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

/usr/bin/chromium:
	apt-get update -qq && apt-get install -y -qq chromium

test: $(STAMP) node_modules/.installed /usr/bin/chromium
	$(PY) -m pytest

serve: $(STAMP)
	$(PY) manage.py runserver 127.0.0.1:8000

clean-indexes:
	rm -rf indexes/*/ db.sqlite3

# The browser extension: Chromium and Firefox builds and zips in extension/dist/, then Mozilla's linter
# on the Firefox build (see extension/README.md).
.PHONY: extension
extension: node_modules/.installed
	node extension/build.mjs
	node_modules/.bin/web-ext lint --source-dir extension/dist/firefox --warnings-as-errors
