# make demo / make test work on a fresh machine: both create the virtual environment first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU build of torch that lies on this kind of machine. GPU users: make install TORCH_SPEC=torch
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: install demo test test-slow lint bench notebooks clean

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: install  # ULMFiT on the embedded reviews: LM, fine-tuning, few-label classifiers vs scratch and baselines
	$(BIN)/lightning-nlp curve --config configs/ulmfit/embedded_curve.yaml

test: install
	$(BIN)/pytest -q

test-slow: install
	$(BIN)/pytest -q --runslow -m slow

lint: install
	$(BIN)/ruff check lightning_nlp tests benchmarks
	$(BIN)/ruff format --check lightning_nlp tests benchmarks

notebooks: install  # re-run the notebooks on ../shared/data and keep their outputs
	$(BIN)/python notebooks/execute.py

bench: install
	$(BIN)/python benchmarks/lm_throughput.py
	$(BIN)/python benchmarks/tokenize_throughput.py

clean:
	rm -rf runs wandb lightning_logs .pytest_cache
