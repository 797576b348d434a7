"""ELMo end to end: pretrain a tiny biLM, use it frozen under a TREC classifier beside the
random-embedding baseline, then test the checkpoint on its own."""

import json
import shutil
import sys

import pytest
import torch

from lightning_nlp.cli import main, run_cli
from lightning_nlp.weights.elmo import load_bilm
from tests.data import corpus_fixtures as fx
from tests.test_cli import ROOT

QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.logger", "false"]


@pytest.fixture(autouse=True)
def _plain_argv(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["lightning-nlp"])


@pytest.mark.integration
def test_bilm_pretraining_then_elmo_classifier_against_random(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = tmp_path / "text"
    text.mkdir()
    (text / "a.txt").write_text("How far is Denver from Aspen ? Who wrote it .\n" * 40)
    main([
        "fit", "--config", str(ROOT / "configs/elmo/bilm_imdb.yaml"),
        "--data.class_path", "lightning_nlp.data.sentences.datamodule.SentenceFilesDataModule",
        "--data.data_dir", str(text), "--data.val_fraction", "0.1",
        "--data.cache_dir", str(tmp_path / "cache"), "--data.batch_size", "16",
        "--model.network.filters", "[[1, 8], [2, 8]]", "--model.network.cell_dim", "32",
        "--model.network.projection_dim", "16", "--trainer.max_epochs", "1",
        "--trainer.default_root_dir", str(tmp_path / "bilm"), *QUIET,
    ])  # fmt: skip
    weights = tmp_path / "bilm/version_0/pretrained"
    assert load_bilm(weights).output_dim == 32
    fx.write_trec(tmp_path / "trec")
    common = (
        f"--data.data_dir {tmp_path / 'trec'} --data.cache_dir {tmp_path / 'cache'} "
        f"--trainer.max_epochs 2 --trainer.default_root_dir {tmp_path / 'runs'} "
        "--trainer.enable_progress_bar false --trainer.logger false"
    )
    elmo_args = (
        f"--model.init_args.network.init_args.elmo_weights {weights} "
        f"--model.init_args.network.init_args.cache_dir {tmp_path / 'layers'}"
    )
    main([
        "compare", "--configs",
        f"[{ROOT / 'configs/elmo/trec_elmo.yaml'},{ROOT / 'configs/elmo/trec_random.yaml'}]",
        "--common_args", common, "--extra_args", json.dumps([elmo_args, ""]),
    ])  # fmt: skip
    result = json.loads((tmp_path / "runs/version_0/comparison.json").read_text())
    names = [stage["name"] for stage in result["stages"]]
    assert names == ["trec_elmo", "trec_random"]
    assert any((tmp_path / "layers").rglob("*.npy"))  # the frozen layers were cached
    # the checkpoint holds the spelling table, the biLM's weights and its architecture: it is
    # tested on its own, the biLM's folder gone, with the compare run's accuracy
    best = next((tmp_path / "runs/version_0/checkpoints").glob("best-*.ckpt"))
    state = torch.load(best, weights_only=True)["state_dict"]
    assert state["network.char_table"].any()
    # built from training text only: the table spells the training vocabulary; words that
    # only evaluation text has are spelled while it is read and never saved
    from lightning_nlp.data.classification.trec import TRECDataModule

    training = TRECDataModule(str(tmp_path / "trec"), cache_dir=str(tmp_path / "cache"))
    assert len(state["network.char_table"]) == len(training.vocab)
    assert "network.unseen_chars" not in state
    shutil.rmtree(weights)
    cli = run_cli([
        "test", "--config", str(ROOT / "configs/elmo/trec_elmo.yaml"), "--ckpt_path", str(best),
        "--data.data_dir", str(tmp_path / "trec"), "--data.cache_dir", str(tmp_path / "cache"),
        "--trainer.default_root_dir", str(tmp_path / "test_runs"), *QUIET,
    ])  # fmt: skip
    alone = float(cli.trainer.callback_metrics["test/acc"])
    assert alone == pytest.approx(result["stages"][0]["metrics"]["test/acc"])


def test_spelling_unseen_words_goes_with_a_network_that_reads_characters(tmp_path):
    """`eval_words_in_vocab` gives unseen words ids after the vocabulary: only a network that
    spells them (ELMo) can read those ids, and an ELMo network needs them (as `load().predict`
    gives them), so each without the other is refused before training."""
    fx.write_trec(tmp_path / "trec")
    data = f"--data.data_dir {tmp_path / 'trec'} --data.cache_dir {tmp_path / 'cache'}".split()
    with pytest.raises(ValueError, match="RNNClassifier has no row for words outside"):
        run_cli([
            "fit", "--config", str(ROOT / "configs/elmo/trec_random.yaml"), *data,
            "--data.eval_words_in_vocab", "true", "--trainer.max_epochs", "1", *QUIET,
            "--trainer.default_root_dir", str(tmp_path / "runs"),
        ])  # fmt: skip
