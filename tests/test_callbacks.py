import io
import json
import sys

import pytorch_lightning as pl
import torch

from lightning_nlp.data.synthetic.embedded import EmbeddedClassificationDataModule
from lightning_nlp.nn.text_classifiers import AveragedEmbeddingClassifier, RNNClassifier
from lightning_nlp.tasks.text_classifier import TextClassifierTask
from lightning_nlp.training.callbacks.jsonl_prediction_writer import JSONLPredictionWriter
from lightning_nlp.training.callbacks.progress import LogFriendlyProgressBar


def _dm(tmp_path, **kw):
    return EmbeddedClassificationDataModule(num_docs=200, cache_dir=str(tmp_path / "c"), **kw)


def test_prediction_writer_writes_a_file_in_input_order(tmp_path):
    texts = ["the food was awful", "", "a lovely room . the staff was kind"] * 7
    (tmp_path / "in.txt").write_text("\n".join(texts) + "\n")
    dm = _dm(tmp_path, predict_file=str(tmp_path / "in.txt"), eval_batch_size=4)
    torch.manual_seed(0)
    task = TextClassifierTask(RNNClassifier(dm.vocab_size, 8, 8, dm.num_classes, "gru"))
    writer = JSONLPredictionWriter(str(tmp_path / "out.jsonl"))
    trainer = pl.Trainer(
        accelerator="cpu", logger=False, enable_progress_bar=False, callbacks=[writer]
    )
    trainer.predict(task, dm, return_predictions=False)
    lines = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(lines) == len(texts)
    task.eval()
    dataset = dm._predict_dataset()
    for i, line in enumerate(lines):
        with torch.no_grad():
            probs = task(*dataset[[i]][:2]).softmax(-1)[0]
        assert line["probs"][dm.label_names[0]] == round(float(probs[0]), 6)
    assert [line["probs"] for line in lines[:3]] == [line["probs"] for line in lines[3:6]]


def _fit_with_bar(tmp_path, bar, monkeypatch):
    stderr = io.StringIO()  # not a terminal, like a CI log
    monkeypatch.setattr(sys, "stderr", stderr)
    dm = _dm(tmp_path, batch_size=4)
    task = TextClassifierTask(AveragedEmbeddingClassifier(dm.vocab_size, 8, dm.num_classes))
    trainer = pl.Trainer(
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        max_epochs=1,
        callbacks=[bar],
        enable_model_summary=False,
        num_sanity_val_steps=0,
    )
    trainer.fit(task, dm)
    return stderr.getvalue()


def test_progress_bar_in_a_log_draws_rarely(tmp_path, monkeypatch, capsys):
    quiet = _fit_with_bar(tmp_path, LogFriendlyProgressBar(log_interval=3600), monkeypatch)
    chatty = _fit_with_bar(tmp_path, LogFriendlyProgressBar(log_interval=0), monkeypatch)
    steps = 160 // 4
    assert chatty.count("\rEpoch 0") > steps  # one redraw per step
    assert quiet.count("\rEpoch 0") <= 6  # at the start and the end of the epoch only
    assert "Epoch 0" in quiet and capsys.readouterr().out == ""  # nothing on stdout
