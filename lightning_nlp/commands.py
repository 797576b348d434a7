"""Commands beside LightningCLI's: `train-vectors` (gensim) and `baseline` (scikit-learn).

Both take the `data:` section of any classification config (other sections are ignored), so
`--config configs/classify/trec_lstm.yaml --data.data_dir ../shared/data/trec` works as for `fit`.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from jsonargparse import ActionConfigFile, ArgumentParser

from lightning_nlp.config_sections import IGNORED_SECTIONS
from lightning_nlp.data.classification_datamodule import ClassificationDataModule
from lightning_nlp.metrics.classification import classification_report
from lightning_nlp.vectors import load_vectors, train_vectors

log = logging.getLogger(__name__)


def _parser(description: str) -> ArgumentParser:
    parser = ArgumentParser(description=description)
    parser.add_argument("--config", action=ActionConfigFile)
    parser.add_subclass_arguments(ClassificationDataModule, "data", required=True)
    for ignored in (*IGNORED_SECTIONS, "ckpt_path"):
        parser.add_argument(f"--{ignored}", type=Any, default=None, help="ignored")
    return parser


def _datamodule(parser: ArgumentParser, args: list[str]) -> tuple[ClassificationDataModule, Any]:
    config = parser.parse_args(args)
    objects = parser.instantiate_classes(config)
    return objects.data, config


def _train_tokens(datamodule: ClassificationDataModule) -> list[list[str]]:
    vocab = datamodule.vocab
    return [vocab.decode(doc) for doc in datamodule.split("train").documents]


def train_vectors_command(args: list[str]) -> Path:
    """Trains Word2Vec or FastText on a data module's training texts and saves the vectors."""
    parser = _parser("Train word vectors with gensim on a corpus's training texts.")
    parser.add_argument(
        "--output",
        type=str,
        required=True,
        help="a .txt/.vec file (word2vec text format) or .kv (gensim)",
    )
    parser.add_function_arguments(train_vectors, "vectors", skip={"documents"})
    datamodule, config = _datamodule(parser, args)
    options = config.vectors.as_dict()
    vectors = train_vectors(_train_tokens(datamodule), **options)
    output = Path(config.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.")
    os.close(fd)
    if output.suffix == ".kv":
        vectors.save(tmp)
    else:
        vectors.save_word2vec_format(tmp, binary=False)
    os.replace(tmp, output)
    print(json.dumps({"output": str(output), "words": len(vectors), "dim": vectors.vector_size}))  # noqa: T201
    return output


def mean_vectors(documents: list[list[str]], vectors: Any) -> np.ndarray:
    """(N, E) mean of the known words' vectors of each document; zeros when none is known."""
    features = np.zeros((len(documents), vectors.vector_size), dtype=np.float32)
    for i, doc in enumerate(documents):
        known = [w for w in doc if w in vectors.key_to_index]
        if known:
            features[i] = vectors[known].mean(axis=0)
    return features


def baseline_command(args: list[str]) -> dict[str, Any]:
    """Mean word vector + logistic regression, trained on train, scored on test."""
    from sklearn.linear_model import LogisticRegression

    parser = _parser("Mean-word-vector logistic regression baseline.")
    parser.add_argument("--vectors", type=str, required=True, help="vector file or gensim name")
    parser.add_argument("--vectors_format", type=str, default="auto")
    parser.add_argument("--C", type=float, default=1.0, help="inverse regularisation strength")
    datamodule, config = _datamodule(parser, args)
    vectors = load_vectors(config.vectors, config.vectors_format)
    vocab = datamodule.vocab
    splits = {s: datamodule.split(s) for s in ("train", "test")}
    features = {
        s: mean_vectors([vocab.decode(d) for d in split.documents], vectors)
        for s, split in splits.items()
    }
    classifier = LogisticRegression(C=config.C, max_iter=2000)
    classifier.fit(features["train"], splits["train"].labels)
    predicted = classifier.predict(features["test"])
    truth = splits["test"].labels
    matrix = np.zeros((datamodule.num_classes,) * 2, dtype=np.int64)
    np.add.at(matrix, (truth, predicted), 1)
    report = classification_report(matrix, datamodule.label_names)
    result = {
        "test/acc": float((predicted == truth).mean()),
        "test_docs": len(truth),
        "vectors": config.vectors,
    }
    print(report)  # noqa: T201
    print(json.dumps(result))  # noqa: T201
    return result
