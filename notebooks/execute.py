"""Re-executes the notebooks on the real corpora in ../shared/data and saves their outputs.

python notebooks/execute.py            # every notebook
python notebooks/execute.py lstm_language_model
python notebooks/execute.py ulmfit_imdb --cells 1,12   # only these cells, in a fresh kernel

`--cells` re-runs a long notebook's last section alone: the named cells (its set-up first) run
in order in one fresh kernel and replace their outputs; the other cells keep theirs.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from lightning_nlp.data.text.io import atomic_write_text

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


def run_cells(
    notebook: nbformat.NotebookNode,
    workdir: Path,
    cells: list[int] | None = None,
    timeout: int | None = None,
) -> None:
    """Runs a notebook in place in a fresh kernel started in `workdir`: every cell, or only
    `cells`, in that order (the other cells keep their outputs)."""
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    if cells is None:
        client.execute()
        return
    with client.setup_kernel():
        for index in cells:
            client.execute_cell(notebook.cells[index], index)


def _as_shown(text: str) -> str:
    """`text` as a terminal shows it: of each line a carriage return rewrote (a progress bar's
    updates), only what was written last."""
    lines = text.split("\n")
    return "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in lines)


def compact_streams(notebook: nbformat.NotebookNode) -> None:
    """Merges each cell's consecutive outputs of one stream and keeps of each rewritten line
    what was written last: the notebook reads as it did when it ran, without one saved output
    per progress-bar update."""
    for cell in notebook.cells:
        merged: list[nbformat.NotebookNode] = []
        for output in cell.get("outputs", []):
            last = merged[-1] if merged else None
            if (
                output.output_type == "stream"
                and last is not None
                and last.output_type == "stream"
                and last.name == output.name
            ):
                last.text += output.text
            else:
                merged.append(output)
        for output in merged:
            if output.output_type == "stream":
                output.text = _as_shown(output.text)
        if "outputs" in cell:
            cell.outputs = merged


def execute(name: str, cells: list[int] | None = None) -> None:
    """Runs notebook `name` on the real corpora (every cell, or only `cells`) and saves it."""
    path = HERE / f"{name}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    os.environ.update(RUNS[name])
    os.environ.setdefault("WANDB_MODE", "disabled")
    run_cells(notebook, HERE.parent, cells)  # no time limit: a real-data cell may take an hour
    compact_streams(notebook)
    atomic_write_text(path, nbformat.writes(notebook).rstrip("\n") + "\n")  # as nbformat.write
    print(f"{path}: executed on {RUNS[name]}" + (f", cells {cells}" if cells else ""))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=list(RUNS))
    parser.add_argument("--cells", type=lambda s: [int(i) for i in s.split(",")], default=None)
    args = parser.parse_args()
    for name in args.names:
        execute(name, args.cells)
