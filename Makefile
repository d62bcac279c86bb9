PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-quick test-without-fcntl lint bench corpus clean screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/callback-sheets demo demo/ --force

test: $(STAMP)
	$(BIN)/callback-sheets lint-templates
	$(BIN)/python -m pytest -q -n auto

# Everything but the tests marked slow (races, kills, whole suites in a subprocess): for the edit-test loop.
test-quick: $(STAMP)
	$(BIN)/python -m pytest -q -n auto -m "not slow"

# The whole suite as on Windows: fcntl (and termios, pwd, grp, resource) unimportable (tests/test_install.py).
test-without-fcntl: $(STAMP)
	mkdir -p .pytest-blocker
	$(BIN)/python -c "from tests.test_install import BLOCKER; open('.pytest-blocker/sitecustomize.py', 'w').write(BLOCKER)"
	PYTHONPATH=.pytest-blocker:. $(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/python -m pip install -q ruff mypy types-openpyxl
	$(BIN)/ruff check callback_sheets tests bench
	$(BIN)/mypy --strict callback_sheets

corpus: $(STAMP)  # init + refresh on all 256 workbooks of ../shared/xlsx-corpus, LibreOffice on all of them
	$(BIN)/python -m tests.corpus_check --libreoffice 256
	$(BIN)/python -m tests.corpus_check --upgrade --libreoffice 256

bench: $(STAMP)
	$(BIN)/python bench/excel_refresh.py 10000

screenshots: $(STAMP)
	$(BIN)/python tools/screenshots.py

clean:
	rm -rf $(VENV) demo .pytest_cache .pytest-blocker build *.egg-info
