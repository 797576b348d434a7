import json
import sys

import pytest
import torch

from lightning_nlp.cli import main, run_cli
from lightning_nlp.data.classification_dataset import ClassificationDataset
from lightning_nlp.tasks.text_classifier import TextClassifierTask
from tests.test_cli import ROOT


@pytest.fixture(autouse=True)
def _plain_argv(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["lightning-nlp"])


def _args(tmp_path, *extra):
    return [
        "--config",
        str(ROOT / "configs/classify/embedded_lstm.yaml"),
        "--data.num_docs",
        "400",
        "--data.cache_dir",
        str(tmp_path / "cache"),
        "--trainer.max_epochs",
        "2",
        "--trainer.default_root_dir",
        str(tmp_path / "run"),
        "--trainer.logger",
        "pytorch_lightning.loggers.CSVLogger",
        "--trainer.logger.init_args.save_dir",
        str(tmp_path / "csv"),
        "--trainer.enable_progress_bar",
        "false",
        *extra,
    ]


def test_fit_test_predict_in_input_order(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    run_cli(["fit", *_args(tmp_path)])
    ckpt = tmp_path / "runs/embedded_lstm/checkpoints/last.ckpt"
    assert ckpt.is_file()
    cli = run_cli(["test", *_args(tmp_path), "--ckpt_path", str(ckpt)])
    assert 0 <= cli.trainer.callback_metrics["test/acc"] <= 1
    texts = [
        "The soup was awful. The staff was rude!",
        "",
        "What a lovely room.",
        "I found the plot very clever. The ending is superb. " * 8,
    ]
    (tmp_path / "in.txt").write_text("\n".join(texts) + "\n")
    capsys.readouterr()
    run_cli(
        [
            "predict",
            *_args(tmp_path),
            "--ckpt_path",
            str(ckpt),
            "--data.predict_file",
            str(tmp_path / "in.txt"),
        ]
    )
    lines = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    assert len(lines) == len(texts)
    # each line matches the document classified on its own, so order survived sorted batching
    task = TextClassifierTask.load_from_checkpoint(ckpt, weights_only=True).eval()
    dm = cli.datamodule
    dm.hparams.predict_file = str(tmp_path / "in.txt")
    dataset = dm._predict_dataset()
    for i, line in enumerate(lines):
        batch = dataset[[i]]
        probs = task(batch.tokens, batch.lengths).softmax(-1)[0]
        assert line["probs"][line["label"]] == pytest.approx(float(probs.max()), abs=1e-5)
        assert line["label"] == dm.label_names[int(probs.argmax())]


def test_train_vectors_then_baseline(tmp_path, capsys):
    common = [
        "--config",
        str(ROOT / "configs/classify/embedded_lstm.yaml"),
        "--data.num_docs",
        "300",
        "--data.cache_dir",
        str(tmp_path / "cache"),
    ]
    main(
        [
            "train-vectors",
            *common,
            "--output",
            str(tmp_path / "v.txt"),
            "--vectors.dim",
            "16",
            "--vectors.epochs",
            "2",
        ]
    )
    assert (tmp_path / "v.txt").read_text().split("\n", 1)[0].endswith(" 16")
    main(["baseline", *common, "--vectors", str(tmp_path / "v.txt")])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0 <= result["test/acc"] <= 1 and result["test_docs"] > 0


def test_predict_dataset_never_drops_empty_lines(tmp_path):
    dataset = ClassificationDataset([torch.tensor([1]).numpy()], None)
    assert dataset[[0]].labels.tolist() == [-1]
