import json

import numpy as np
import pytorch_lightning as pl
import torch
from gensim.models import KeyedVectors

from lightning_nlp.data.embedded import EmbeddedClassificationDataModule
from lightning_nlp.tasks.text_classifier import TextClassifierTask


def _dm(tmp_path, **kw):
    return EmbeddedClassificationDataModule(
        num_docs=300, cache_dir=str(tmp_path / "c"), batch_size=16, **kw
    )


def _trainer(tmp_path, **kw):
    return pl.Trainer(
        accelerator="cpu",
        logger=pl.loggers.CSVLogger(tmp_path / "logs"),
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path,
        **kw,
    )


def test_fit_and_test_write_report_and_confusion_matrix(tmp_path):
    dm = _dm(tmp_path)
    task = TextClassifierTask(dm.vocab_size, dm.num_classes, dm.pad_id, "gru", 16, 16)
    trainer = _trainer(tmp_path, max_epochs=1)
    trainer.fit(task, dm)
    result = trainer.test(task, dm, verbose=False)[0]
    for key in (
        "test/acc",
        "test/f1_macro",
        "test/f1_weighted",
        "test/precision_macro",
        "test/recall_weighted",
        "test/loss",
    ):
        assert 0 <= result[key] <= 10
    folder = tmp_path / "logs" / "lightning_logs" / "version_0"
    assert (folder / "test_confusion_matrix.png").stat().st_size > 1000
    report = (folder / "test_report.txt").read_text()
    assert "negative" in report and "macro avg" in report
    assert json.loads((folder / "labels.json").read_text()) == ["negative", "positive"]
    assert (folder / "vocab.json").is_file()


def test_pretrained_frozen_vectors_are_loaded_and_kept(tmp_path):
    dm = _dm(tmp_path)
    words = dm.vocab.itos[4:50]
    kv = KeyedVectors(8)
    kv.add_vectors(words, np.random.default_rng(0).normal(size=(len(words), 8)).astype(np.float32))
    kv.save_word2vec_format(str(tmp_path / "v.txt"))
    task = TextClassifierTask(
        dm.vocab_size,
        dm.num_classes,
        dm.pad_id,
        "average",
        8,
        vectors=str(tmp_path / "v.txt"),
        freeze_embeddings=True,
    )
    _trainer(tmp_path, max_epochs=1).fit(task, dm)
    row = dm.vocab.stoi[words[3]]
    assert torch.allclose(task.model.embedding.weight[row], torch.tensor(kv[words[3]]))
    assert not task.model.embedding.weight.requires_grad
    expected = sum(t in kv.key_to_index or t.lower() in kv.key_to_index for t in dm.vocab.itos[4:])
    assert task.embedding_coverage["types_found"] == expected >= len(words)


def test_classifier_learns_the_embedded_task(tmp_path):
    pl.seed_everything(0)
    dm = EmbeddedClassificationDataModule(
        num_docs=1500, cache_dir=str(tmp_path / "c"), batch_size=32
    )
    task = TextClassifierTask(
        dm.vocab_size,
        dm.num_classes,
        dm.pad_id,
        "lstm",
        32,
        32,
        bidirectional=True,
        pooling="max",
        dropout=0.1,
        optimizer=lambda p: torch.optim.Adam(p, lr=5e-3),
    )
    trainer = _trainer(tmp_path, max_epochs=6)
    trainer.fit(task, dm)
    assert trainer.test(task, dm, verbose=False)[0]["test/acc"] > 0.7
