"""bf16 mixed precision for every task: tiny fits under `--trainer.precision bf16-mixed` whose
loss falls, whose weights and checkpoints stay fp32, and whose checkpoints predict and generate.

On a CPU without bf16 units these run emulated (`LIGHTNING_NLP_EMULATE_BF16=1`: the LSTM
kernels compute and return bf16 as the AMX kernels do, so the same dtypes meet as on a CPU with
AMX); there they run natively.
"""

import contextlib
import json
import math
import sys
from pathlib import Path

import pytest
import torch
from pytorch_lightning.callbacks import Callback

from lightning_nlp.cli import main, run_cli
from lightning_nlp.cli.generate import generate
from lightning_nlp.tasks.language_model import LanguageModelTask
from lightning_nlp.training import precision
from lightning_nlp.training.loggers import run_dir
from tests.data import corpus_fixtures as fx
from tests.test_cli import ROOT

QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.logger", "false"]
BF16 = ["--trainer.precision", "bf16-mixed"]


class EpochLosses(Callback):
    """Records the mean training loss of each epoch."""

    def __init__(self) -> None:
        self.losses: list[float] = []

    def on_train_epoch_end(self, trainer, module) -> None:
        self.losses.append(float(trainer.callback_metrics["train/loss_epoch"]))


@pytest.fixture
def bf16(monkeypatch):
    """Native bf16 where the CPU has bf16 units, else emulated (LSTMs computing in bf16 as on
    AMX); whatever the emulation changes in torch is put back after the test."""
    monkeypatch.setattr(sys, "argv", ["lightning-nlp"])
    monkeypatch.setattr(torch.backends.mkldnn, "enabled", torch.backends.mkldnn.enabled)
    monkeypatch.setattr(torch, "lstm", torch.lstm)
    monkeypatch.setattr(torch._VF, "lstm", torch._VF.lstm)
    if not precision.bf16_support().supported:
        monkeypatch.setenv(precision.EMULATE_ENV, "1")


def _fit(args: list[str]) -> tuple[object, list[float]]:
    cli = run_cli([*args, *BF16, *QUIET], run=False)
    losses = EpochLosses()
    cli.trainer.callbacks.append(losses)
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    return cli, losses.losses


def _check_fit(cli, losses: list[float], falling: bool = True) -> Path:
    """Loss finite (and falling), weights fp32; returns the last checkpoint, checked fp32."""
    assert cli.trainer.precision == "bf16-mixed"
    assert all(math.isfinite(x) for x in losses), losses
    assert losses[-1] < losses[0] or not falling, losses
    assert {p.dtype for p in cli.model.parameters()} == {torch.float32}
    ckpt = run_dir(cli.trainer) / "checkpoints" / "last.ckpt"
    state = torch.load(ckpt, weights_only=True)["state_dict"]
    assert {t.dtype for t in state.values() if t.is_floating_point()} == {torch.float32}
    return ckpt


def _lm_args(tmp_path: Path, config: str, *extra: str) -> list[str]:
    return [
        "--config", str(ROOT / config),
        "--data.num_docs", "300", "--data.cache_dir", str(tmp_path / "cache"),
        "--model.network.embed_dim", "16", "--model.network.hidden_dim", "24",
        "--trainer.max_epochs", "3", "--trainer.limit_train_batches", "6",
        "--trainer.limit_val_batches", "2",
        "--trainer.default_root_dir", str(tmp_path / "runs"), *extra,
    ]  # fmt: skip


@pytest.mark.parametrize(
    "config", ["configs/lm/embedded_lstm.yaml", "configs/ulmfit/embedded_lm.yaml"]
)
def test_language_models_fit_in_bf16_and_their_checkpoints_generate(bf16, tmp_path, config):
    cli, losses = _fit(_lm_args(tmp_path, config, "--model.optimizer.init_args.lr", "0.01"))
    ckpt = _check_fit(cli, losses)
    carried = cli.model._hidden["val"]  # the state carried across validation windows
    leaves = torch.utils._pytree.tree_leaves(carried)
    assert leaves and {t.dtype for t in leaves} == {torch.float32}
    ppl = cli.model.ppl["val_ppl"]
    assert ppl.nll_sum.dtype == torch.float64  # accumulated in fp64, whatever the step's dtype
    for precision_name in ("32-true", "bf16-mixed"):
        texts = generate(str(ckpt), "the", max_tokens=5, precision=precision_name)
        beams = generate(str(ckpt), "the", max_tokens=5, beam_size=3, precision=precision_name)
        assert len(texts[0].split()) > 1 and len(beams[0].split()) > 1


def _predict(tmp_path: Path, args: list[str], ckpt: Path, texts: list[str], capsys) -> list[dict]:
    inputs = tmp_path / "in.txt"
    inputs.write_text("".join(t + "\n" for t in texts))
    capsys.readouterr()
    run_cli(["predict", *args, *BF16, *QUIET, "--ckpt_path", str(ckpt),
             "--data.predict_file", str(inputs)])  # fmt: skip
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def _probs_fp32(ckpt: Path, cli, inputs: Path) -> list[torch.Tensor]:
    """Each input line classified on its own in fp32, outside the CLI."""
    from lightning_nlp.tasks.text_classifier import TextClassifierTask

    task = TextClassifierTask.load_from_checkpoint(ckpt, weights_only=True).eval()
    cli.datamodule.hparams.predict_file = str(inputs)
    dataset = cli.datamodule._predict_dataset()
    with torch.no_grad():
        return [task(*dataset[[i]][:2]).softmax(-1)[0] for i in range(len(dataset))]


def test_classic_classifier_fits_in_bf16_and_its_checkpoint_predicts(bf16, tmp_path, capsys):
    """A few epochs on 300 embedded reviews teach the LSTM little in either precision (a
    review's sentiment is one or two rare words): the bf16 run must follow the fp32 run."""
    args = _classifier_args(tmp_path, "configs/classify/embedded_lstm.yaml")
    cli, losses = _fit(args)
    ckpt = _check_fit(cli, losses, falling=False)
    _check_follows_fp32(args, losses)
    _check_predict(tmp_path, args, ckpt, cli, capsys)


def _check_follows_fp32(args: list[str], losses: list[float]) -> None:
    fp32 = run_cli([*args, *QUIET], run=False)
    fp32_losses = EpochLosses()
    fp32.trainer.callbacks.append(fp32_losses)
    fp32.trainer.fit(fp32.model, datamodule=fp32.datamodule)
    assert losses == pytest.approx(fp32_losses.losses, abs=0.03)
    assert losses != fp32_losses.losses  # the bf16 run did run in bf16


def test_ulmfit_classifier_fits_in_bf16_as_in_fp32_and_predicts(bf16, tmp_path, capsys):
    """BPT3C with gradual unfreezing does not learn this tiny corpus in a few epochs in either
    precision: the bf16 run must follow the fp32 run of the same seed instead."""
    args = _classifier_args(tmp_path, "configs/ulmfit/embedded_clas.yaml")
    cli, losses = _fit(args)
    ckpt = _check_fit(cli, losses, falling=False)
    _check_follows_fp32(args, losses)
    _check_predict(tmp_path, args, ckpt, cli, capsys)


def _classifier_args(tmp_path: Path, config: str) -> list[str]:
    return [
        "--config", str(ROOT / config),
        "--data.num_docs", "300", "--data.cache_dir", str(tmp_path / "cache"),
        "--data.train_size", "32",
        "--model.network.embed_dim", "16", "--model.network.hidden_dim", "16",
        "--trainer.max_epochs", "4", "--trainer.default_root_dir", str(tmp_path / "runs"),
    ]  # fmt: skip


def _check_predict(tmp_path: Path, args: list[str], ckpt: Path, cli, capsys) -> None:
    """`predict` under bf16 gives the fp32 probabilities to bf16's precision."""
    texts = ["the food was great", "awful service and cold food", "fine"]
    lines = _predict(tmp_path, args, ckpt, texts, capsys)
    expected = _probs_fp32(ckpt, cli, tmp_path / "in.txt")
    assert len(lines) == len(texts)
    first = cli.datamodule.label_names[0]
    for line, probs in zip(lines, expected):
        assert line["probs"][first] == pytest.approx(float(probs[0]), abs=0.02)


def test_elmo_bilm_and_classifier_fit_in_bf16(bf16, tmp_path, capsys):
    text = tmp_path / "text"
    text.mkdir()
    (text / "a.txt").write_text("How far is Denver from Aspen ? Who wrote it .\n" * 40)
    cli, losses = _fit([
        "--config", str(ROOT / "configs/elmo/bilm_imdb.yaml"),
        "--data.class_path", "lightning_nlp.data.sentences.datamodule.SentenceFilesDataModule",
        "--data.data_dir", str(text), "--data.val_fraction", "0.1",
        "--data.cache_dir", str(tmp_path / "cache"), "--data.batch_size", "16",
        "--model.network.filters", "[[1, 8], [2, 8]]", "--model.network.cell_dim", "32",
        "--model.network.projection_dim", "16", "--trainer.max_epochs", "3",
        "--model.optimizer.init_args.lr", "0.01",
        "--trainer.default_root_dir", str(tmp_path / "bilm"),
    ])  # fmt: skip
    _check_fit(cli, losses)
    fx.write_trec(tmp_path / "trec")
    args = [
        "--config", str(ROOT / "configs/elmo/trec_elmo.yaml"),
        "--data.data_dir", str(tmp_path / "trec"), "--data.cache_dir", str(tmp_path / "cache"),
        "--model.network.elmo_weights", str(tmp_path / "bilm/version_0/pretrained"),
        "--model.network.cache_dir", str(tmp_path / "layers"),
        "--model.network.embed_dim", "8", "--model.optimizer", "torch.optim.Adam",
        "--model.optimizer.init_args.lr", "0.01",
        "--trainer.max_epochs", "4", "--trainer.default_root_dir", str(tmp_path / "runs"),
    ]  # fmt: skip
    cli, losses = _fit(args)
    ckpt = _check_fit(cli, losses)
    lines = _predict(tmp_path, args, ckpt, ["How far is Aspen ?", "Who wrote Hamlet ?"], capsys)
    assert len(lines) == 2 and all(
        math.isclose(sum(x["probs"].values()), 1, abs_tol=1e-3) for x in lines
    )


def test_bf16_is_refused_plainly_where_the_cpu_has_no_bf16_units(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["lightning-nlp"])
    monkeypatch.delenv(precision.EMULATE_ENV, raising=False)
    monkeypatch.setattr(
        precision,
        "bf16_support",
        lambda device="cpu": precision.Bf16Support("cpu", "Old CPU", "", "AVX2"),
    )
    with pytest.raises(SystemExit) as stop:
        main(["fit", *_lm_args(tmp_path, "configs/lm/embedded_lstm.yaml"), *BF16, *QUIET])
    assert stop.value.code == 2
    message = capsys.readouterr().err
    assert "Old CPU: no bf16 units" in message and "32-true" in message
    assert "Traceback" not in message
    assert not list((tmp_path / "runs").glob("version_*/checkpoints/*.ckpt"))  # no step ran
    with pytest.raises(precision.PrecisionError, match="no bf16 units"):
        precision.check_bf16("bf16-mixed", "cpu")
    precision.check_bf16("32-true", "cpu")  # fp32 is never refused


def test_bf16_command_reports_this_machine(capsys):
    support = precision.bf16_command(["--cpu"])
    out = capsys.readouterr().out
    assert support.capability in out
    assert ("bf16 runs on" in out) == support.supported


def test_carried_lm_state_is_cast_back_to_the_weights_dtype(bf16):
    from lightning_nlp.nn.lstm_lm import LSTMLanguageModel

    task = LanguageModelTask(LSTMLanguageModel(20, 8, 8, 2, 0.0))
    batch = (torch.randint(0, 20, (3, 5)), torch.randint(0, 20, (3, 5)))
    emulate = precision.check_bf16("bf16-mixed", "cpu")
    with (
        precision.emulated_bf16_kernels() if emulate else contextlib.nullcontext(),
        torch.autocast("cpu", dtype=torch.bfloat16),
    ):
        raw_state = task.network(batch[0]).hidden
        loss = task.training_step(batch, 0)
        task.training_step(batch, 1)
    if not precision.bf16_support().supported:  # emulated: the kernel hands back bf16
        assert raw_state[0].dtype == torch.bfloat16
    assert task._hidden["train"][0].dtype == torch.float32
    assert loss.dtype == torch.float32


def test_bf16_emulation_ends_with_the_run_that_asked_for_it(tmp_path, monkeypatch):
    """A fit that emulates bf16 (no bf16 units) leaves oneDNN and the LSTM kernels as they were
    for the fp32 runs after it in the same process."""
    monkeypatch.setattr(sys, "argv", ["lightning-nlp"])
    monkeypatch.setenv(precision.EMULATE_ENV, "1")
    monkeypatch.setattr(
        precision,
        "bf16_support",
        lambda device="cpu": precision.Bf16Support("cpu", "Old CPU", "", "AVX2"),
    )
    before = torch.backends.mkldnn.enabled, torch.lstm, torch._VF.lstm
    seen = []

    class Watch(Callback):
        def on_train_batch_start(self, *args):
            seen.append((torch.backends.mkldnn.enabled, getattr(torch.lstm, "emulates_bf16", 0)))

    cli = run_cli([*_lm_args(tmp_path, "configs/lm/embedded_lstm.yaml"), *BF16, *QUIET], run=False)
    cli.trainer.callbacks.append(Watch())
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    assert seen and all(state == (False, True) for state in seen)  # emulated during the run
    assert (torch.backends.mkldnn.enabled, torch.lstm, torch._VF.lstm) == before
