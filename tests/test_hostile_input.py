"""Hostile and broken input thrown at every reader and command, as users meet it.

Each error case runs `lightning-nlp` (in this process) and must end with exit status 2 and one
`lightning-nlp: error:` line that names the file (and the line where there is one), with no
traceback. Each handled case must finish and count what it skipped, with finite metrics.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import math
import os
import shutil
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

import lightning_nlp
from lightning_nlp.cli import main
from lightning_nlp.data.text.download import Source, ensure_files
from lightning_nlp.data.text.io import CorpusError
from lightning_nlp.weights.checkpoints import CheckpointError
from tests.conftest import write_corpus
from tests.data import corpus_fixtures as fx
from tests.test_cli import ROOT, _tiny_args

QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.logger", "false"]
RANDOM = os.urandom(4096)
BIG_LINE = 100 * 2**20  # characters: "a 100 MB single line"


@pytest.fixture(autouse=True)
def _plain_argv(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "argv", ["lightning-nlp"])
    monkeypatch.chdir(tmp_path)


def _csv_fit(tmp_path: Path) -> list[str]:
    return [
        "fit", "--config", str(ROOT / "configs/classify/csv.yaml"),
        "--data.data_dir", str(tmp_path / "csv"), "--data.min_freq", "1",
        "--data.cache_dir", str(tmp_path / "cache"), "--data.tokenizer", "whitespace",
        "--model.network.embed_dim", "8", "--model.network.hidden_dim", "8",
        "--trainer.max_epochs", "1", "--trainer.default_root_dir", str(tmp_path / "runs"),
        *QUIET,
    ]  # fmt: skip


def _lm_fit(tmp_path: Path) -> list[str]:
    return ["fit", *_tiny_args(tmp_path / "corpus", tmp_path, epochs=1, wandb=False)]


def _rewrite(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# ---- error cases: (what to break, the command, what the message must name) -------------------


def _train_csv(tmp_path: Path, data: bytes) -> tuple[list[str], str]:
    """A CSV corpus whose train.csv holds `data`: the fit command, and the file to name."""
    fx.write_csv(tmp_path / "csv")
    _rewrite(tmp_path / "csv/train.csv", data)
    return _csv_fit(tmp_path), "train.csv"


def csv_random_bytes(tmp_path):
    return _train_csv(tmp_path, RANDOM)


def csv_latin1(tmp_path):
    fx.write_csv(tmp_path / "csv")
    text = (tmp_path / "csv/train.csv").read_text().replace("film", "café", 1)
    _rewrite(tmp_path / "csv/train.csv", text.encode("latin-1"))
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "café" in t)
    return _csv_fit(tmp_path), f"train.csv:{line}"


def csv_mixed_encodings(tmp_path):
    fx.write_csv(tmp_path / "csv")
    lines = (tmp_path / "csv/train.csv").read_text().splitlines()
    data = "\n".join(lines[:5]).encode() + "\nnaïve".encode("cp1252") + b"\n"
    _rewrite(tmp_path / "csv/train.csv", data + "\n".join(lines[5:]).encode() + b"\n")
    return _csv_fit(tmp_path), "train.csv:6"


def csv_empty(tmp_path):
    return _train_csv(tmp_path, b"")


def csv_whitespace_only(tmp_path):
    return _train_csv(tmp_path, b"  \n\t\n \r\n")


def csv_header_only(tmp_path):
    return _train_csv(tmp_path, b"id,text,label\n")


def csv_missing_column(tmp_path):
    fx.write_csv(tmp_path / "csv")
    text = (tmp_path / "csv/train.csv").read_text().replace("id,text,label", "id,text,sentiment")
    _rewrite(tmp_path / "csv/train.csv", text.encode())
    return _csv_fit(tmp_path), "train.csv:1"


def csv_missing_field(tmp_path):
    fx.write_csv(tmp_path / "csv")
    lines = (tmp_path / "csv/train.csv").read_text().splitlines()
    lines[7] = lines[7].rsplit(",", 1)[0]
    _rewrite(tmp_path / "csv/train.csv", ("\n".join(lines) + "\n").encode())
    return _csv_fit(tmp_path), "train.csv:8"


def csv_extra_field(tmp_path):
    fx.write_csv(tmp_path / "csv")
    lines = (tmp_path / "csv/train.csv").read_text().splitlines()
    lines[3] += ",surplus"
    _rewrite(tmp_path / "csv/train.csv", ("\n".join(lines) + "\n").encode())
    return _csv_fit(tmp_path), "train.csv:4"


def csv_unclosed_quote(tmp_path):
    fx.write_csv(tmp_path / "csv")
    lines = (tmp_path / "csv/train.csv").read_text().splitlines()
    lines[4] = lines[4].replace('",', ",", 1)
    _rewrite(tmp_path / "csv/train.csv", ("\n".join(lines) + "\n").encode())
    return _csv_fit(tmp_path), "train.csv"


def csv_label_only_in_test(tmp_path, trained):
    fx.write_csv(tmp_path / "csv")
    lines = (tmp_path / "csv/test.csv").read_text().splitlines()
    lines[9] = lines[9].rsplit(",", 1)[0] + ",neutral"
    _rewrite(tmp_path / "csv/test.csv", ("\n".join(lines) + "\n").encode())
    return ["test", *_csv_fit(tmp_path)[1:], "--ckpt_path", str(trained["ckpt"])], "test.csv:10"


def csv_100mb_line(tmp_path):
    fx.write_csv(tmp_path / "csv")
    with open(tmp_path / "csv/train.csv", "ab") as handle:
        handle.write(b'41,"' + b"word " * (BIG_LINE // 5) + b'",pos\n')
    return _csv_fit(tmp_path), "train.csv:42"


def lm_random_bytes(tmp_path):
    write_corpus(tmp_path / "corpus")
    _rewrite(tmp_path / "corpus/train.txt", RANDOM)
    return _lm_fit(tmp_path), "train.txt"


def lm_empty(tmp_path):
    write_corpus(tmp_path / "corpus")
    _rewrite(tmp_path / "corpus/train.txt", b"")
    return _lm_fit(tmp_path), "train.txt"


def lm_whitespace_only(tmp_path):
    write_corpus(tmp_path / "corpus")
    _rewrite(tmp_path / "corpus/valid.txt", b"\n \n\t\n")
    return _lm_fit(tmp_path), "valid.txt"


def lm_utf16(tmp_path):
    write_corpus(tmp_path / "corpus")
    text = (tmp_path / "corpus/train.txt").read_text()
    _rewrite(tmp_path / "corpus/train.txt", text.encode("utf-16"))
    return _lm_fit(tmp_path), "train.txt:1"


def lm_missing_file(tmp_path):
    write_corpus(tmp_path / "corpus")
    (tmp_path / "corpus/valid.txt").unlink()
    return _lm_fit(tmp_path), "valid.txt"


def imdb_truncated_tar(tmp_path):
    fx.write_imdb_tar(tmp_path / "imdb")
    archive = tmp_path / "imdb/aclImdb_v1.tar.gz"
    _rewrite(archive, archive.read_bytes()[: archive.stat().st_size // 2])
    return _imdb_fit(tmp_path), "aclImdb_v1.tar.gz"


def imdb_random_bytes_tar(tmp_path):
    (tmp_path / "imdb").mkdir()
    _rewrite(tmp_path / "imdb/aclImdb_v1.tar.gz", RANDOM)
    return _imdb_fit(tmp_path), "aclImdb_v1.tar.gz"


def imdb_gzip_of_nothing(tmp_path):
    (tmp_path / "imdb").mkdir()
    _rewrite(tmp_path / "imdb/aclImdb_v1.tar.gz", gzip.compress(b"not a tar archive" * 100))
    return _imdb_fit(tmp_path), "aclImdb_v1.tar.gz"


def newsgroups_truncated_tar(tmp_path):
    fx.write_newsgroups_tar(tmp_path / "ng")
    archive = tmp_path / "ng/20news-bydate.tar.gz"
    _rewrite(archive, archive.read_bytes()[: archive.stat().st_size * 2 // 3])
    config = str(ROOT / "configs/classify/newsgroups6_avg.yaml")
    args = ["fit", "--config", config, "--data.data_dir", str(tmp_path / "ng")]
    return [*args, "--data.cache_dir", str(tmp_path / "cache"), *QUIET], "20news-bydate.tar.gz"


def _imdb_fit(tmp_path: Path) -> list[str]:
    config = str(ROOT / "configs/classify/imdb_bilstm.yaml")
    args = ["fit", "--config", config, "--data.data_dir", str(tmp_path / "imdb")]
    return [*args, "--data.cache_dir", str(tmp_path / "cache"), *QUIET]


def ckpt_random_bytes(tmp_path):
    fx.write_csv(tmp_path / "csv")
    ckpt = _rewrite(tmp_path / "model.ckpt", RANDOM)
    return [*_csv_fit(tmp_path), "--ckpt_path", str(ckpt)], "model.ckpt"


def ckpt_untrusted_pickle(tmp_path):
    fx.write_csv(tmp_path / "csv")
    ckpt = tmp_path / "model.ckpt"
    torch.save({"state_dict": {}, "payload": argparse.Namespace(x=1)}, ckpt)  # not weights
    args = ["test", *_csv_fit(tmp_path)[1:], "--ckpt_path", str(ckpt)]
    return args, "model.ckpt"


def ckpt_truncated(tmp_path, trained):
    fx.write_csv(tmp_path / "csv")
    ckpt = _rewrite(tmp_path / "model.ckpt", trained["ckpt"].read_bytes()[:5000])
    return ["test", *_csv_fit(tmp_path)[1:], "--ckpt_path", str(ckpt)], "model.ckpt"


def ckpt_of_another_task(tmp_path, trained):
    write_corpus(tmp_path / "corpus")
    args = ["test", *_lm_fit(tmp_path)[1:], "--ckpt_path", str(trained["ckpt"])]
    return args, "last.ckpt"


def generate_from_a_classifier(tmp_path, trained):
    return ["generate", "--ckpt_path", str(trained["ckpt"]), "--prompt", "the"], "last.ckpt"


def predict_latin1_input(tmp_path, trained):
    inputs = _rewrite(tmp_path / "inputs.txt", "a good film\nun café\n".encode("latin-1"))
    return _predict(trained, inputs), "inputs.txt:2"


def predict_random_bytes_input(tmp_path, trained):
    inputs = _rewrite(tmp_path / "inputs.txt", RANDOM)
    return _predict(trained, inputs), "inputs.txt"


def predict_missing_input(tmp_path, trained):
    return _predict(trained, tmp_path / "nowhere.txt"), "nowhere.txt"


def _predict(trained: dict, inputs: Path) -> list[str]:
    args = ["predict", *_csv_fit(inputs.parent)[1:], "--ckpt_path", str(trained["ckpt"])]
    return [*args, "--data.predict_file", str(inputs)]


def vectors_wrong_dimension(tmp_path):
    fx.write_csv(tmp_path / "csv")
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("3 5\nfilm 1 2 3 4 5\ngood 1 2 3 4 5\nbad 5 4 3 2 1\n")
    args = [*_csv_fit(tmp_path), "--model.vectors", str(vectors)]
    return args, "vectors.txt"


def vectors_random_bytes(tmp_path):
    fx.write_csv(tmp_path / "csv")
    vectors = _rewrite(tmp_path / "vectors.txt", RANDOM)
    args = [*_csv_fit(tmp_path), "--model.vectors", str(vectors)]
    return args, "vectors.txt"


def _load_fails(folder: Path, names: str, backend: str = "auto") -> tuple[None, str]:
    with pytest.raises(CheckpointError) as error:
        lightning_nlp.load(folder, backend=backend)
    assert names in str(error.value), error.value
    return None, str(error.value)


def model_folder_wrong_vocab(tmp_path, trained):
    folder = shutil.copytree(trained["folder"], tmp_path / "model")
    vocab = json.loads((folder / "vocab.json").read_text())
    vocab["itos"] = vocab["itos"][:-3]  # three words short
    (folder / "vocab.json").write_text(json.dumps(vocab))
    return _load_fails(folder, "vocab.json")


def model_folder_pickled_weights(tmp_path, trained):
    folder = shutil.copytree(trained["folder"], tmp_path / "model")
    torch.save({"weights": argparse.Namespace(x=1)}, folder / "model.safetensors")  # a pickle
    return _load_fails(folder, "model.safetensors")


def model_folder_garbled_graphs(tmp_path, trained):
    folder = shutil.copytree(trained["folder"], tmp_path / "model")
    _rewrite(folder / "model.torchscript.pt", RANDOM)
    _load_fails(folder, "model.torchscript.pt", "torchscript")
    _rewrite(folder / "model.onnx", RANDOM)
    return _load_fails(folder, "model.onnx", "onnx")


def model_folder_random_config(tmp_path, trained):
    folder = shutil.copytree(trained["folder"], tmp_path / "model")
    _rewrite(folder / "config.json", RANDOM)
    return _load_fails(folder, "config.json")


def wikitext_truncated_zip(tmp_path):
    """A download that arrives cut short: named, not extracted, nothing left behind."""
    archive = tmp_path / "wikitext-2-v1.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("wikitext-2/wiki.train.tokens", "a b c\n" * 5000)
    _rewrite(archive, archive.read_bytes()[:-200])
    sources = {"wiki.train.tokens": Source(archive.as_uri(), None, "wikitext-2/wiki.train.tokens")}
    with pytest.raises(CorpusError, match="wikitext-2-v1.zip") as error:
        ensure_files(tmp_path / "data", ["wiki.train.tokens"], sources)
    assert not any((tmp_path / "data").glob("*")) if (tmp_path / "data").exists() else True
    return None, str(error.value)


ERRORS: list[Callable] = [
    csv_random_bytes, csv_latin1, csv_mixed_encodings, csv_empty, csv_whitespace_only,
    csv_header_only, csv_missing_column, csv_missing_field, csv_extra_field, csv_unclosed_quote,
    csv_100mb_line, lm_random_bytes, lm_empty, lm_whitespace_only, lm_utf16, lm_missing_file, imdb_truncated_tar, imdb_random_bytes_tar,
    imdb_gzip_of_nothing, newsgroups_truncated_tar, ckpt_random_bytes, ckpt_untrusted_pickle,
    vectors_wrong_dimension, vectors_random_bytes, wikitext_truncated_zip,
]  # fmt: skip
ERRORS_WITH_MODEL: list[Callable] = [
    csv_label_only_in_test, ckpt_truncated, ckpt_of_another_task, generate_from_a_classifier, predict_latin1_input,
    predict_random_bytes_input, predict_missing_input, model_folder_wrong_vocab,
    model_folder_pickled_weights, model_folder_garbled_graphs, model_folder_random_config,
]  # fmt: skip


def _expect_error(argv: list[str] | None, names: str, capsys) -> None:
    if argv is None:  # a reader called directly; `names` is its message
        return
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    err = capsys.readouterr().err
    assert exit_.value.code == 2, err[-2000:]
    assert "Traceback" not in err, err[-2000:]
    message = next(line for line in err.splitlines() if line.startswith("lightning-nlp: error:"))
    assert names in message, message


@pytest.mark.parametrize("case", ERRORS, ids=[c.__name__ for c in ERRORS])
def test_broken_input_gets_a_clear_error(case, tmp_path, capsys):
    argv, names = case(tmp_path)
    _expect_error(argv, names, capsys)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict:
    """A tiny CSV classifier: its last checkpoint and its exported model folder."""
    tmp_path = tmp_path_factory.mktemp("trained")
    fx.write_csv(tmp_path / "csv")
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        main(_csv_fit(tmp_path))
    finally:
        os.chdir(old)
    run = tmp_path / "runs/version_0"
    return {"ckpt": run / "checkpoints/last.ckpt", "folder": run / "pretrained"}


@pytest.mark.parametrize("case", ERRORS_WITH_MODEL, ids=[c.__name__ for c in ERRORS_WITH_MODEL])
def test_broken_models_and_inputs_to_a_model_get_a_clear_error(case, trained, tmp_path, capsys):
    argv, names = case(tmp_path, trained)
    _expect_error(argv, names, capsys)


# ---- handled cases: read correctly, skips counted in the log, finite metrics ----------------


def _fit_and_read_metrics(argv: list[str], tmp_path: Path) -> dict[str, float]:
    dropped = {i + k for i, a in enumerate(argv) if a == "--trainer.logger" for k in (0, 1)}
    argv = [a for i, a in enumerate(argv) if i not in dropped]
    argv += ["--trainer.logger", "pytorch_lightning.loggers.CSVLogger"]
    main(argv)
    import csv

    metrics_file = next(tmp_path.rglob("metrics.csv"))
    with open(metrics_file) as handle:
        rows = list(csv.DictReader(handle))
    values = {k: float(v) for row in rows for k, v in row.items() if v and k != "step"}
    assert values and all(math.isfinite(v) for v in values.values()), values
    return values


def test_bom_crlf_and_empty_documents_are_read_and_counted(tmp_path, caplog):
    fx.write_csv(tmp_path / "csv")
    lines = (tmp_path / "csv/train.csv").read_text().splitlines()
    lines[2] = lines[2].split(",", 1)[0] + ',"   ",pos'  # an empty document
    lines[3] = lines[3].split(",", 1)[0] + ',"",neg'  # and another
    data = "\ufeff" + "\r\n".join(lines) + "\r\n"  # a BOM and Windows line ends
    _rewrite(tmp_path / "csv/train.csv", data.encode())
    with caplog.at_level(logging.INFO):
        metrics = _fit_and_read_metrics(_csv_fit(tmp_path), tmp_path)
    assert "train/loss_epoch" in metrics or "val/loss" in metrics
    assert any("2 empty" in record.getMessage() for record in caplog.records), caplog.text
    vocab = json.loads(next((tmp_path / "runs").rglob("vocab.json")).read_text())["itos"]
    assert "film" in vocab and not any("\ufeff" in word or "\r" in word for word in vocab)


def test_a_100_mb_line_is_one_line_of_the_language_model_corpus(tmp_path):
    write_corpus(tmp_path / "corpus")
    with open(tmp_path / "corpus/train.txt", "ab") as handle:
        handle.write(b"x" * BIG_LINE + b"\n")
    args = _tiny_args(tmp_path / "corpus", tmp_path, epochs=1, wandb=False)
    _fit_and_read_metrics(["fit", *args], tmp_path)
    table = json.loads(next((tmp_path / "run").rglob("vocab.json")).read_text())["itos"]
    assert "x" * BIG_LINE in table  # the line is one token (it occurs once: min_freq is 1)
