import importlib.util
import os
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

from tests.conftest import shared_corpus

ROOT = Path(__file__).resolve().parents[1]


def _executor() -> ModuleType:
    """notebooks/execute.py, which runs the notebooks on the real corpora (not a package)."""
    spec = importlib.util.spec_from_file_location(
        "notebooks_execute", ROOT / "notebooks/execute.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(
    name: str, tmp_path: Path, env: dict[str, str], cells: list[int] | None = None
) -> nbformat.NotebookNode:
    """Runs a notebook in `tmp_path` (every cell, or only `cells`, as `execute.py --cells`)."""
    notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    old = dict(os.environ)
    os.environ.update(env)
    try:
        _executor().run_cells(notebook, tmp_path, cells, timeout=600)
    finally:
        os.environ.clear()
        os.environ.update(old)
    return notebook


def test_saved_outputs_keep_what_a_terminal_shows_of_progress_bars():
    output = nbformat.v4.new_output
    cell = nbformat.v4.new_code_cell("work()")
    cell.outputs = [
        output("stream", name="stdout", text="start\n"),
        output("stream", name="stderr", text="\rtokenizing:   0%| 0/9"),
        output("stream", name="stderr", text="\rtokenizing:  50%| 4/9"),
        output("stream", name="stderr", text="\rtokenizing: 100%| 9/9\r"),
        output("stream", name="stderr", text="\n"),
        output("display_data", data={"text/plain": "<figure>"}),
        output("stream", name="stderr", text="after\rAFTER\nend\n"),
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# t"), cell])
    _executor().compact_streams(notebook)
    outputs = notebook.cells[1].outputs
    assert [o.get("text") for o in outputs] == [
        "start\n",
        "tokenizing: 100%| 9/9\n",
        None,
        "AFTER\nend\n",
    ]
    assert "outputs" not in notebook.cells[0]


@pytest.mark.integration
def test_lstm_language_model_notebook_runs_on_tiny_data(tmp_path):
    notebook = _run(
        "lstm_language_model.ipynb",
        tmp_path,
        {
            "LNLP_NB_NUM_DOCS": "200",
            "LNLP_NB_HIDDEN": "16",
            "LNLP_NB_EPOCHS": "1",
            "LNLP_NB_WORK_DIR": str(tmp_path / "work"),
        },
    )
    outputs = "".join(o.get("text", "") for cell in notebook.cells for o in cell.get("outputs", []))
    assert "tied: True" in outputs and "test perplexity:" in outputs and "beam:" in outputs


@pytest.mark.slow
def test_lstm_language_model_notebook_on_wikitext2(tmp_path):
    data = shared_corpus("wikitext-2")
    _run(
        "lstm_language_model.ipynb",
        tmp_path,
        {
            "LNLP_NB_DATA_DIR": str(data),
            "LNLP_NB_EPOCHS": "1",
            "LNLP_NB_WORK_DIR": str(tmp_path),
        },
    )


@pytest.mark.integration
def test_classic_classifiers_notebook_runs_on_tiny_data(tmp_path):
    notebook = _run(
        "classic_classifiers.ipynb",
        tmp_path,
        {
            "LNLP_NB_NUM_DOCS": "300",
            "LNLP_NB_EPOCHS": "1",
            "LNLP_NB_WORK_DIR": str(tmp_path / "w"),
        },
    )
    outputs = "".join(o.get("text", "") for cell in notebook.cells for o in cell.get("outputs", []))
    assert "identical: True" in outputs and "gru" in outputs and "macro avg" in outputs


@pytest.mark.slow
def test_classic_classifiers_notebook_on_sst2(tmp_path):
    data = shared_corpus("sst2")
    _run(
        "classic_classifiers.ipynb",
        tmp_path,
        {
            "LNLP_NB_SST2_DIR": str(data),
            "LNLP_NB_EPOCHS": "1",
            "LNLP_NB_WORK_DIR": str(tmp_path),
        },
    )


@pytest.mark.integration
def test_ulmfit_notebook_runs_on_tiny_data(tmp_path):
    from tests.conftest import write_corpus
    from tests.data import corpus_fixtures as fx

    env = {
        "LNLP_NB_GENERAL_DIR": str(write_corpus(tmp_path / "general")),
        "LNLP_NB_GENERAL_FILES": "train.txt,valid.txt",
        "LNLP_NB_IMDB_DIR": str(fx.write_imdb_tar(tmp_path / "imdb", n=20)),
        "LNLP_NB_MAX_REVIEWS": "60",
        "LNLP_NB_TRAIN_SIZE": "20",
        "LNLP_NB_EMBED": "8",
        "LNLP_NB_HIDDEN": "12",
        "LNLP_NB_EPOCHS": "1",
        "LNLP_NB_WORK_DIR": str(tmp_path / "work"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "LNLP_NB_CURVE_LM": str(tmp_path / "no_such_model"),  # the notebook's own LM
        "LNLP_NB_CURVE_COUNTS": "10",
        "LNLP_NB_CURVE_SEEDS": "1",
        "LNLP_NB_CURVE_MIN_DOCS": "20",
        "LNLP_NB_CURVE_PSEUDO_DOCS": "10",
        "WANDB_MODE": "disabled",  # as notebooks/execute.py runs it
    }
    notebook = _run("ulmfit_imdb.ipynb", tmp_path, env)
    outputs = "".join(o.get("text", "") for cell in notebook.cells for o in cell.get("outputs", []))
    assert "image/png" in notebook.cells[-1].outputs[-1]["data"]  # the curve's plot
    for expected in (
        "ulmfit_pseudo",  # the curve's table
        "nb_lr_pseudo",
        "general LM:",
        "fine-tuned LM:",
        "ULMFiT (pretrained)",
        "random init",
        "model.safetensors",
    ):
        assert expected in outputs

    # the last section alone (`execute.py ulmfit_imdb --cells 1,<last>`), on a language model
    # folder given by LNLP_NB_CURVE_LM: here the one the full run fine-tuned
    lm = tmp_path / "work" / "imdb_lm"
    env["LNLP_NB_CURVE_LM"] = str(lm)
    env["LNLP_NB_CURVE_EXTRA"] = "--model.network.embed_dim 8 --model.network.hidden_dim 12"
    last = len(notebook.cells) - 1
    section = _run("ulmfit_imdb.ipynb", tmp_path, env, cells=[1, last])
    printed = "".join(o.get("text", "") for o in section.cells[last].outputs)
    assert f"language model: {lm}" in printed and "ulmfit_pseudo" in printed
    assert "scratch_pseudo" in printed  # the like-with-like control of the self-trained row
    assert "tokenizing" not in printed  # the runs' reports go to a file, not into the notebook
    assert "test/acc" in (tmp_path / "work" / "curve_report.txt").read_text()


@pytest.mark.integration
def test_elmo_trec_notebook_runs_on_tiny_data(tmp_path):
    from tests.data import corpus_fixtures as fx

    fx.write_trec(tmp_path / "trec")
    notebook = _run(
        "elmo_trec.ipynb",
        tmp_path,
        {
            "LNLP_NB_TREC_DIR": str(tmp_path / "trec"),
            "LNLP_NB_EPOCHS": "2",
            "LNLP_NB_WORK_DIR": str(tmp_path / "w"),
        },
    )
    outputs = "".join(o.get("text", "") for cell in notebook.cells for o in cell.get("outputs", []))
    assert "identical: True" in outputs and "ELMo:   test accuracy" in outputs
    assert "misses" in outputs and "random: test accuracy" in outputs


@pytest.mark.slow
def test_elmo_trec_notebook_on_trec(tmp_path):
    data = shared_corpus("trec")
    _run(
        "elmo_trec.ipynb",
        tmp_path,
        {"LNLP_NB_TREC_DIR": str(data), "LNLP_NB_EPOCHS": "2", "LNLP_NB_WORK_DIR": str(tmp_path)},
    )
