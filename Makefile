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

# The browser tests drive Debian's Chromium and Firefox ESR with playwright-core and puppeteer-core (npm);
# nothing downloads a browser.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

/usr/bin/chromium:
	apt-get update -qq && apt-get install -y -qq chromium

# Firefox ESR speaks WebDriver BiDi itself: puppeteer-core drives it with no geckodriver.
/usr/bin/firefox-esr:
	apt-get update -qq && apt-get install -y -qq firefox-esr

# Every test on SQLite (the default), then the database-facing ones again on the machine's PostgreSQL,
# which production uses (pytest-django creates and drops its own test database there).
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/codesearch
test: $(STAMP) node_modules/.installed /usr/bin/chromium /usr/bin/firefox-esr
	$(PY) -m pytest
	DATABASE_URL=$(TEST_POSTGRES_URL) $(PY) -m pytest tests/test_api.py tests/test_web_api.py tests/test_pages.py \
		tests/test_browser_pages.py tests/test_end_to_end.py tests/test_repositories.py tests/test_jobs.py \
		tests/test_access.py tests/test_chaos.py tests/test_api_fuzz.py \
		tests/test_extension_e2e.py tests/test_migrations.py

serve: $(STAMP)
	DJANGO_DEBUG=1 $(PY) manage.py runserver 127.0.0.1:8000

clean-indexes:
	rm -rf indexes/*/ db.sqlite3

# The browser extension: Chromium and Firefox builds and zips in extension/dist/, then Mozilla's linter
# on the Firefox build (see extension/README.md).
.PHONY: extension
extension: node_modules/.installed
	node extension/build.mjs
	node_modules/.bin/web-ext lint --source-dir extension/dist/firefox --warnings-as-errors

# The base corpus: Debian packages (apt-get download, nothing installed) + npm packages, extracted and
# cleaned into indexes/corpus/full (recipe and figures: benchmarks/results/corpus/). Rerunning resumes.
.PHONY: corpus
corpus: $(STAMP)
	ls /var/lib/apt/lists/*Packages* >/dev/null 2>&1 || apt-get update -qq
	$(PY) -m training corpus build --out indexes/corpus/full --source debian npm
	mkdir -p benchmarks/results/corpus && cp indexes/corpus/full/stats.json benchmarks/results/corpus/stats.json

# Search under load: gunicorn on 127.0.0.1 driven by wrk at 16 connections; writes
# benchmarks/results/load_search.{json,png} (uses make demo's django/django index when it is there).
.PHONY: load-benchmark
load-benchmark: $(STAMP)
	$(PY) benchmarks/load_search.py

# The six-language base model: trained on the corpus above (on a GPU when there is one), evaluated beside
# BM25 and the hybrid; metrics, curves and plots go to benchmarks/results/base-model/. `make demo` uses it.
.PHONY: base-model
base-model: corpus
	$(PY) scripts/base_model.py

# The product-level evaluation (benchmarks/product_eval/README.md): our search beside BM25 and
# all-MiniLM-L6-v2 on what newcomers type, over 8 real repositories checked out under SOURCES (see that
# README); needs the base model. Writes benchmarks/results/product_eval.json.
.PHONY: product-eval
product-eval: $(STAMP)
	test -n "$(SOURCES)" || { echo "set SOURCES=DIR holding <owner>/<name> checkouts (benchmarks/product_eval/README.md)"; exit 2; }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-eval.txt
	$(PY) benchmarks/product_eval.py --sources $(SOURCES) --doc-weights 0.25 1.0 --bm25-weights 0.5 0.7 1.0 \
		--without class block class,block --where

# Hundreds of repositories on one machine: real Debian packages of the six languages from the corpus cache
# (make corpus) indexed in cumulative batches of 10, 30 and 100 with add_repositories --backend ray, then
# disk, gunicorn memory (PSS) and uncached latency at 16 connections after each; writes
# benchmarks/results/scale.{json,png}. SCALE_ARGS passes options (e.g. --base-model indexes/demo-base).
.PHONY: scale-benchmark
scale-benchmark: $(STAMP)
	$(PY) benchmarks/scale.py $(SCALE_ARGS)
