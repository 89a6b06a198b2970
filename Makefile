# Two commands for a newcomer: `make demo` (the main job) and `make test`. Each sets itself up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test demo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first and pinned: this installs the local CPU build instead of gigabytes of CUDA packages.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q

demo: $(STAMP)
	$(BIN)/pokegan data fetch
	$(BIN)/pokegan data prepare --preset gen5-64 --out data/gen5-64.data
	$(BIN)/pokegan data show data/gen5-64.data --out demo/gen5-64-sheet.png

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
