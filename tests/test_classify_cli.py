"""The classifier through the command line: run folders, test, predict, wrong checkpoints."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lightning_nlp.cli import main, run_cli
from lightning_nlp.tasks.text_classifier import TextClassifierTask
from tests.data import corpus_fixtures as fx
from tests.test_cli import ROOT, user_env

CONFIG = str(ROOT / "configs/classify/sst2_gru.yaml")
EXE = shutil.which("lightning-nlp", path=str(Path(sys.executable).parent))


@pytest.fixture(autouse=True)
def _plain_argv(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["lightning-nlp"])


def _args(tmp_path, *extra):
    return [
        "--config",
        CONFIG,
        "--data.data_dir",
        str(tmp_path / "sst2"),
        "--data.min_freq",
        "1",
        "--data.cache_dir",
        str(tmp_path / "cache"),
        "--model.network.embed_dim",
        "16",
        "--model.network.hidden_dim",
        "16",
        "--trainer.max_epochs",
        "2",
        "--trainer.default_root_dir",
        str(tmp_path / "runs"),
        "--trainer.logger",
        "pytorch_lightning.loggers.CSVLogger",
        "--trainer.logger.init_args.save_dir",
        "elsewhere",
        "--trainer.enable_progress_bar",
        "false",
        *extra,
    ]


@pytest.fixture
def trained(tmp_path, monkeypatch):
    """A 2-epoch SST-2-format run in tmp_path/runs/version_0."""
    monkeypatch.chdir(tmp_path)
    fx.write_sst2(tmp_path / "sst2", n=60)
    run_cli(["fit", *_args(tmp_path)])
    return tmp_path / "runs" / "version_0"


TEXTS = [
    "the film was great and superb",
    "",
    "awful\x0cdull\u2028poor film",  # form feed and line separator stay inside the line
    "it was lovely " * 30,
    "bad",
]


def _write_inputs(path: Path) -> Path:
    path.write_bytes("".join(t + "\r\n" for t in TEXTS).encode())  # CRLF, as from Windows
    return path


def _expected_probs(ckpt: Path, dm, texts):
    """Each text classified on its own, outside the CLI."""
    task = TextClassifierTask.load_from_checkpoint(ckpt, weights_only=True).eval()
    dm.hparams.predict_file = str(_write_inputs(ckpt.parent / "one_by_one.txt"))
    dataset = dm._predict_dataset()
    with torch.no_grad():
        return [task(*dataset[[i]][:2]).softmax(-1)[0] for i in range(len(texts))]


def test_run_folder_holds_everything_and_runs_never_overwrite(trained, tmp_path):
    files = {p.relative_to(trained).as_posix() for p in trained.rglob("*") if p.is_file()}
    assert {"config.yaml", "vocab.json", "labels.json", "metrics.csv", "hparams.yaml"} <= files
    assert "checkpoints/last.ckpt" in files
    assert any(f.startswith("checkpoints/best-epoch") for f in files)
    assert json.loads((trained / "labels.json").read_text()) == ["negative", "positive"]
    assert not (tmp_path / "elsewhere").exists()
    run_cli(["fit", *_args(tmp_path, "--trainer.max_epochs", "1")])
    second = tmp_path / "runs" / "version_1"
    assert (second / "checkpoints" / "last.ckpt").is_file()
    first_config = (trained / "config.yaml").read_text()
    assert "max_epochs: 2" in first_config
    assert "max_epochs: 1" in (second / "config.yaml").read_text()


def test_test_reports_the_accuracy_of_the_checkpoint(trained, tmp_path):
    ckpt = trained / "checkpoints" / "last.ckpt"
    cli = run_cli(["test", *_args(tmp_path), "--ckpt_path", str(tmp_path / "runs")])
    dm = cli.datamodule
    task = TextClassifierTask.load_from_checkpoint(ckpt, weights_only=True).eval()
    split = dm.split("test")
    with torch.no_grad():
        predicted = [
            int(task(torch.as_tensor(d[None], dtype=torch.long), torch.tensor([len(d)])).argmax())
            for d in split.documents
        ]
    accuracy = float(np.mean(np.asarray(predicted) == split.labels))
    assert float(cli.trainer.callback_metrics["test/acc"]) == pytest.approx(accuracy, abs=1e-6)
    test_run = tmp_path / "runs" / "version_1"
    assert (test_run / "test_report.txt").is_file()
    assert (test_run / "test_confusion_matrix.png").is_file()


def test_predict_keeps_one_line_per_input_line_in_order(trained, tmp_path, capsys):
    _write_inputs(tmp_path / "in.txt")
    capsys.readouterr()
    cli = run_cli(
        [
            "predict",
            *_args(tmp_path),
            "--ckpt_path",
            str(trained / "checkpoints" / "last.ckpt"),
            "--data.predict_file",
            str(tmp_path / "in.txt"),
        ]
    )
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == len(TEXTS)
    expected = _expected_probs(trained / "checkpoints" / "last.ckpt", cli.datamodule, TEXTS)
    for line, probs in zip(lines, expected):
        assert line["label"] == cli.datamodule.label_names[int(probs.argmax())]
        assert line["probs"][line["label"]] == pytest.approx(float(probs.max()), abs=1e-5)


@pytest.mark.integration
def test_predict_redirected_to_a_file_needs_only_the_checkpoint(trained, tmp_path):
    """The README's command, run by a shell, after the training data has gone."""
    _write_inputs(tmp_path / "in.txt")
    shutil.rmtree(tmp_path / "sst2")
    shutil.rmtree(tmp_path / "cache")
    env = user_env()
    command = (
        f"{EXE} predict --config {CONFIG} --data.data_dir {tmp_path / 'sst2'} "
        f"--ckpt_path {trained / 'checkpoints' / 'last.ckpt'} "
        f"--data.predict_file {tmp_path / 'in.txt'} > {tmp_path / 'predictions.jsonl'}"
    )
    done = subprocess.run(
        command, shell=True, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = (tmp_path / "predictions.jsonl").read_text().splitlines()
    assert len(lines) == len(TEXTS)
    assert all(set(json.loads(line)) == {"label", "probs"} for line in lines)


EMBEDDED = str(ROOT / "configs/classify/embedded_lstm.yaml")


def _embedded_shell(command: str, rest: str, tmp_path: Path, env: dict[str, str]) -> str:
    """`lightning-nlp COMMAND --config configs/classify/embedded_lstm.yaml ... REST` run by a
    shell in tmp_path, on a small embedded corpus; returns its stderr."""
    line = (
        f"{EXE} {command} --config {EMBEDDED} --data.num_docs 200 "
        f"--data.cache_dir {tmp_path / 'cache'} --trainer.max_epochs 1 "
        f"--model.network.embed_dim 8 --model.network.hidden_dim 8 {rest}"
    )
    done = subprocess.run(
        line, shell=True, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stderr


@pytest.mark.integration
def test_readme_fit_test_predict_in_the_users_environment(tmp_path):
    """The README's commands as a user runs them (no WANDB_* variables, so W&B's default
    offline logger): `predict > predictions.jsonl` is a JSON-lines file, one line a document,
    and neither `test` nor `predict` opens a W&B run."""
    env = user_env()
    _embedded_shell("fit", "> fit.log", tmp_path, env)
    runs = tmp_path / "runs" / "classify" / "embedded_lstm"
    assert list((runs / "version_0" / "wandb").glob("offline-run-*"))  # fit: the default logger
    _embedded_shell("test", f"--ckpt_path {runs} > test.log", tmp_path, env)
    assert (runs / "version_1" / "metrics.csv").is_file()  # test's metrics, in its run folder
    (tmp_path / "reviews.txt").write_text("\n".join([*TEXTS, "the food was good"]) + "\n")
    predict = f"--ckpt_path {runs} --data.predict_file reviews.txt > predictions.jsonl"
    _embedded_shell("predict", predict, tmp_path, env)
    lines = (tmp_path / "predictions.jsonl").read_text().splitlines()
    assert len(lines) == len(TEXTS) + 1
    assert all(set(json.loads(line)) == {"label", "probs"} for line in lines)
    assert [p.parent.name for p in tmp_path.rglob("wandb")] == ["version_0"]


@pytest.mark.integration
def test_wandb_mode_disabled_writes_no_wandb_run(tmp_path):
    """W&B's own off switch is obeyed: the default logger writes no run folder."""
    _embedded_shell("fit", "", tmp_path, {**user_env(), "WANDB_MODE": "disabled"})
    run = tmp_path / "runs" / "classify" / "embedded_lstm" / "version_0"
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert not list(tmp_path.rglob("wandb"))


def test_a_language_model_checkpoint_is_refused_plainly(tmp_path, tiny_corpus, monkeypatch, capsys):
    from tests.test_cli import _tiny_args

    monkeypatch.chdir(tmp_path)
    run_cli(["fit", *_tiny_args(tiny_corpus, tmp_path, epochs=1, wandb=False)])
    lm_ckpt = tmp_path / "run" / "version_0" / "checkpoints" / "last.ckpt"
    fx.write_sst2(tmp_path / "sst2", n=60)
    with pytest.raises(SystemExit) as stopped:
        main(["test", *_args(tmp_path), "--ckpt_path", str(lm_ckpt)])
    assert stopped.value.code == 2
    message = capsys.readouterr().err
    assert "is a LanguageModelTask checkpoint" in message and "TextClassifierTask" in message


def test_train_vectors_then_baseline(tmp_path, capsys):
    from sklearn.linear_model import LogisticRegression

    from lightning_nlp.cli.commands import mean_vectors
    from lightning_nlp.data.classification.sst2 import SST2DataModule
    from lightning_nlp.weights.vectors import load_vectors

    fx.write_sst2(tmp_path / "sst2", n=60)
    common = ["--config", CONFIG, "--data.data_dir", str(tmp_path / "sst2")]
    common += ["--data.cache_dir", str(tmp_path / "cache")]
    main(
        ["train-vectors", *common, "--output", str(tmp_path / "v.txt")]
        + ["--vectors.dim", "16", "--vectors.epochs", "2"]
    )
    assert (tmp_path / "v.txt").read_text().split("\n", 1)[0].endswith(" 16")
    capsys.readouterr()
    main(["baseline", *common, "--method", "mean_vectors", "--vectors", str(tmp_path / "v.txt")])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    # the same baseline computed here from the same vectors and splits
    dm = SST2DataModule(str(tmp_path / "sst2"), min_freq=2, cache_dir=str(tmp_path / "cache"))
    vectors = load_vectors(str(tmp_path / "v.txt"))
    features = {
        s: mean_vectors([dm.vocab.decode(d) for d in dm.split(s).documents], vectors)
        for s in ("train", "test")
    }
    model = LogisticRegression(max_iter=2000).fit(features["train"], dm.split("train").labels)
    expected = float((model.predict(features["test"]) == dm.split("test").labels).mean())
    assert result["test_docs"] == len(dm.split("test").documents)
    assert result["test/acc"] == pytest.approx(expected, abs=1e-9)


@pytest.mark.integration
def test_predict_on_two_ranks_writes_one_file_in_input_order(trained, tmp_path):
    texts = [f"the film was {'great' if i % 3 else 'awful'} " * (1 + i % 7) for i in range(41)]
    (tmp_path / "in.txt").write_text("\n".join(texts) + "\n")
    env = user_env()
    outputs = {}
    for devices, strategy in ((1, "auto"), (2, "ddp")):
        out = tmp_path / f"out{devices}.jsonl"
        command = [EXE, "predict", "--config", CONFIG, "--data.data_dir", str(tmp_path / "sst2")]
        command += ["--ckpt_path", str(trained), "--data.predict_file", str(tmp_path / "in.txt")]
        command += ["--data.eval_batch_size", "4", "--predictions.output", str(out)]
        command += ["--trainer.accelerator", "cpu", "--trainer.devices", str(devices)]
        command += ["--trainer.strategy", strategy]
        done = subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-3000:]
        outputs[devices] = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(outputs[2]) == len(texts)
    for one, two in zip(outputs[1], outputs[2]):
        assert one["label"] == two["label"]
        for label, p in one["probs"].items():
            assert two["probs"][label] == pytest.approx(p, abs=1e-5)
