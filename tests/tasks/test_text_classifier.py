import csv
from pathlib import Path

import numpy as np
import pytest
import pytorch_lightning as pl
import torch
from gensim.models import KeyedVectors

from lightning_nlp.data.synthetic.embedded import EmbeddedClassificationDataModule
from lightning_nlp.nn.text_classifiers import AveragedEmbeddingClassifier, RNNClassifier
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


def _predictions(task, dm, split):
    """(truth, predicted) class ids of a split, one document at a time."""
    data = dm.split(split)
    task.eval()
    with torch.no_grad():
        predicted = [
            int(
                task(
                    torch.as_tensor(doc[None], dtype=torch.long), torch.tensor([len(doc)])
                ).argmax()
            )
            for doc in data.documents
        ]
    return data.labels, np.asarray(predicted)


def test_fit_and_test_metrics_and_report_equal_scikit_learn(tmp_path):
    from sklearn import metrics

    dm = _dm(tmp_path)
    task = TextClassifierTask(RNNClassifier(dm.vocab_size, 16, 16, dm.num_classes, "gru"))
    trainer = _trainer(tmp_path, max_epochs=1)
    trainer.fit(task, dm)
    result = trainer.test(task, dm, verbose=False)[0]
    truth, predicted = _predictions(task, dm, "test")
    assert result["test/acc"] == pytest.approx(metrics.accuracy_score(truth, predicted), abs=1e-6)
    for average in ("macro", "weighted"):
        p, r, f1, _ = metrics.precision_recall_fscore_support(
            truth, predicted, average=average, zero_division=0
        )
        assert result[f"test/precision_{average}"] == pytest.approx(p, abs=1e-6)
        assert result[f"test/recall_{average}"] == pytest.approx(r, abs=1e-6)
        assert result[f"test/f1_{average}"] == pytest.approx(f1, abs=1e-6)
    folder = tmp_path / "logs" / "lightning_logs" / "version_0"
    assert (folder / "test_confusion_matrix.png").stat().st_size > 1000
    report = (folder / "test_report.txt").read_text()
    expected = metrics.classification_report(
        truth, predicted, target_names=dm.label_names, output_dict=True, zero_division=0
    )
    rows = {" ".join(line.split()[:-4]): line.split()[-4:] for line in report.splitlines()[2:]}
    for name in [*dm.label_names, "macro avg", "weighted avg"]:
        precision, recall, f1, support = rows[name]
        want = expected[name]
        assert float(precision) == pytest.approx(want["precision"], abs=6e-4)
        assert float(recall) == pytest.approx(want["recall"], abs=6e-4)
        assert float(f1) == pytest.approx(want["f1-score"], abs=6e-4)
        assert int(support) == want["support"]


def test_validation_metrics_are_reset_between_epochs(tmp_path):
    """Each epoch's val/acc is that epoch's model on the validation split, not a running mean."""
    dm = _dm(tmp_path)
    task = TextClassifierTask(RNNClassifier(dm.vocab_size, 16, 16, dm.num_classes, "gru"))
    seen = []

    class Record(pl.Callback):
        def on_validation_epoch_end(self, trainer, pl_module):
            if not trainer.sanity_checking:
                truth, predicted = _predictions(pl_module, dm, "valid")
                pl_module.train()
                seen.append((float((truth == predicted).mean()), trainer.callback_metrics))

    trainer = _trainer(tmp_path, max_epochs=3, callbacks=[Record()], num_sanity_val_steps=0)
    trainer.fit(task, dm)
    with open(Path(trainer.logger.log_dir) / "metrics.csv") as handle:
        logged = [float(row["val/acc"]) for row in csv.DictReader(handle) if row["val/acc"]]
    assert len(logged) == 3
    assert logged == pytest.approx([accuracy for accuracy, _ in seen], abs=1e-6)


def test_pretrained_frozen_vectors_are_loaded_and_kept(tmp_path):
    dm = _dm(tmp_path)
    words = dm.vocab.itos[4:50]
    kv = KeyedVectors(8)
    kv.add_vectors(words, np.random.default_rng(0).normal(size=(len(words), 8)).astype(np.float32))
    kv.save_word2vec_format(str(tmp_path / "v.txt"))
    task = TextClassifierTask(
        AveragedEmbeddingClassifier(dm.vocab_size, 8, dm.num_classes),
        vectors=str(tmp_path / "v.txt"),
        freeze_embeddings=True,
    )
    _trainer(tmp_path, max_epochs=1).fit(task, dm)
    row = dm.vocab.stoi[words[3]]
    assert torch.allclose(task.network.embedding.weight[row], torch.tensor(kv[words[3]]))
    assert not task.network.embedding.weight.requires_grad
    expected = sum(t in kv.key_to_index or t.lower() in kv.key_to_index for t in dm.vocab.itos[4:])
    assert task.embedding_coverage["types_found"] == expected >= len(words)


def test_classifier_learns_the_embedded_task(tmp_path):
    pl.seed_everything(0)
    dm = EmbeddedClassificationDataModule(
        num_docs=1500, cache_dir=str(tmp_path / "c"), batch_size=32
    )
    task = TextClassifierTask(
        RNNClassifier(
            dm.vocab_size, 32, 32, dm.num_classes, bidirectional=True, pooling="max", dropout=0.1
        ),
        optimizer=lambda p: torch.optim.Adam(p, lr=5e-3),
    )
    trainer = _trainer(tmp_path, max_epochs=6)
    trainer.fit(task, dm)
    assert trainer.test(task, dm, verbose=False)[0]["test/acc"] > 0.7
