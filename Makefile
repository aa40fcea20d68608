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

test: $(STAMP)
	$(PY) -m pytest

serve: $(STAMP)
	$(PY) manage.py runserver 127.0.0.1:8000

clean-indexes:
	rm -rf indexes/*/ db.sqlite3
