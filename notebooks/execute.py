"""Re-executes the notebooks on the real corpora in ../shared/data and saves their outputs.

python notebooks/execute.py            # every notebook
python notebooks/execute.py lstm_language_model
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data"
RUNS = {
    "lstm_language_model": {"LNLP_NB_DATA_DIR": str(DATA / "wikitext-2")},
    "classic_classifiers": {"LNLP_NB_SST2_DIR": str(DATA / "sst2")},
    "ulmfit_imdb": {
        "LNLP_NB_GENERAL_DIR": str(DATA / "wikitext-2"),
        "LNLP_NB_IMDB_DIR": str(DATA / "imdb"),
    },
    "elmo_trec": {
        "LNLP_NB_TREC_DIR": str(DATA / "trec"),
        "LNLP_NB_ELMO_WEIGHTS": str(HERE.parent / "runs/elmo/bilm_imdb/version_0/pretrained"),
    },
}


def execute(name: str) -> None:
    path = HERE / f"{name}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    os.environ.update(RUNS[name])
    os.environ.setdefault("WANDB_MODE", "disabled")
    NotebookClient(
        notebook,
        timeout=3600,
        kernel_name="python3",
        resources={"metadata": {"path": str(HERE.parent)}},
    ).execute()
    nbformat.write(notebook, path)
    print(f"{path}: executed on {RUNS[name]}")


if __name__ == "__main__":
    for name in sys.argv[1:] or list(RUNS):
        execute(name)
