"""A run's data artifacts: the vocabulary (`vocab.json`) and, for classifiers, the label names
(`labels.json`), saved once per run and read back instead of re-reading the training data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lightning_nlp.data.text.io import CorpusError, atomic_write_text
from lightning_nlp.data.text.vocab import Vocab
from lightning_nlp.weights.checkpoints import CheckpointError, data_state, read_checkpoint

VOCAB_FILE, LABELS_FILE = "vocab.json", "labels.json"


def save_artifacts(folder: str | Path, vocab: Vocab, labels: list[str] | None = None) -> None:
    folder = Path(folder)
    vocab.save(folder / VOCAB_FILE)
    if labels is not None:
        atomic_write_text(folder / LABELS_FILE, json.dumps(labels, ensure_ascii=False))


def load_artifacts(path: str | Path) -> tuple[Vocab, list[str] | None]:
    """Vocabulary and labels from a `vocab.json` (with `labels.json` beside it, if there is
    one), a checkpoint, or a run folder."""
    path = Path(path)
    if path.suffix == ".json":
        vocab = Vocab.load(path)
        labels_file = path.with_name(LABELS_FILE)
        if not labels_file.is_file():
            return vocab, None
        try:
            labels = json.loads(labels_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise CorpusError(f"{labels_file}: not a label file ({error})") from None
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise CorpusError(f"{labels_file}: expected a JSON list of label names")
        return vocab, labels
    state = data_state(read_checkpoint(path))
    if state is None:
        raise CheckpointError(
            f"{path}: holds no vocabulary; was it written by `lightning-nlp fit`?"
        )
    return Vocab(state["vocab"]), state.get("labels")


def check_same_data(datamodule: Any, state: dict[str, Any]) -> None:
    """Raises CorpusError when a checkpoint's vocabulary, labels or tokeniser differ from the
    data module's: ids would mean other words, class ids other classes."""
    vocab = Vocab(state["vocab"]) if state.get("vocab") else None
    problems = []
    if vocab is None or vocab.fingerprint != datamodule.vocab.fingerprint:
        size = len(vocab) if vocab else 0
        problems.append(
            f"its vocabulary ({size} tokens, fingerprint "
            f"{vocab.fingerprint if vocab else '-'}) is not this data module's "
            f"({datamodule.vocab_size} tokens, fingerprint {datamodule.vocab.fingerprint})"
        )
    if "labels" in state and state["labels"] != getattr(datamodule, "label_names", None):
        problems.append(f"its labels {state['labels']} differ from {datamodule.label_names}")
    if state.get("backwards", False) != datamodule.hparams.get("backwards", False):
        problems.append(
            f"it reads text {'right to left' if state.get('backwards') else 'left to right'}"
        )
    if state.get("tokenizer") not in (None, datamodule.hparams.tokenizer):
        problems.append(
            f"it was trained with tokenizer {state['tokenizer']!r}, "
            f"not {datamodule.hparams.tokenizer!r}"
        )
    if problems:
        raise CorpusError(
            f"the checkpoint does not fit the data of {datamodule.data_dir}: "
            + "; ".join(problems)
            + ". Use the same files and vocabulary settings, or evaluate with the "
            "checkpoint's own vocabulary (--data.vocab_path CHECKPOINT)"
        )
