"""Commands beside LightningCLI's: `train-vectors` (gensim) and `baseline` (scikit-learn).

Both take the `data:` section of any classification config (other sections are ignored), so
`--config configs/classify/trec_lstm.yaml --data.data_dir ../shared/data/trec` works as for `fit`.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
from jsonargparse import ActionConfigFile, ArgumentParser

from lightning_nlp.cli.config_sections import IGNORED_SECTIONS, accept_ignored_sections
from lightning_nlp.data.classification.datamodule import ClassificationDataModule
from lightning_nlp.data.text.io import atomic_path
from lightning_nlp.training.metrics.classification import classification_report

log = logging.getLogger(__name__)


def _parser(description: str) -> ArgumentParser:
    parser = ArgumentParser(description=description)
    parser.add_argument("--config", action=ActionConfigFile)
    parser.add_subclass_arguments(ClassificationDataModule, "data", required=True)
    accept_ignored_sections(parser, "ckpt_path")
    return parser


def _datamodule(parser: ArgumentParser, args: list[str]) -> tuple[ClassificationDataModule, Any]:
    config = parser.parse_args(args)
    return _instantiate_data(parser, config), config


def _instantiate_data(parser: ArgumentParser, config: Any) -> ClassificationDataModule:
    """The `data:` section as a data module. The ignored sections are cleared first: jsonargparse
    would otherwise build the model a config's `model: class_path:` names (and warns that it will
    stop doing so)."""
    kept = config.clone()
    for ignored in (*IGNORED_SECTIONS, "ckpt_path"):
        kept[ignored] = None
    instantiate = getattr(parser, "instantiate", None) or parser.instantiate_classes  # < 4.49
    return instantiate(kept).data


def _train_tokens(datamodule: ClassificationDataModule) -> list[list[str]]:
    vocab = datamodule.vocab
    return [vocab.decode(doc) for doc in datamodule.split("train").documents]


def train_vectors_command(args: list[str]) -> Path:
    """Trains Word2Vec or FastText on a data module's training texts and saves the vectors."""
    from lightning_nlp.weights.vectors import (
        train_vectors,  # gensim: only for the commands using it
    )

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
    with atomic_path(output) as tmp:
        if output.suffix == ".kv":
            vectors.save(str(tmp))
        else:
            vectors.save_word2vec_format(str(tmp), binary=False)
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


BASELINE_METHODS = ("nb_lr", "tfidf_lr", "mean_vectors")  # the first two: baselines.LINEAR_METHODS


def baseline_command(args: list[str]) -> dict[str, Any]:
    """A linear baseline trained on train (its `--data.train_size` sample, if set) and scored
    on test; prints the per-class report, then a last line with one JSON object.

    Methods: `nb_lr` (NB-weighted uni+bigram logistic regression, the default), `tfidf_lr`
    (TF-IDF uni+bigram logistic regression), both on the documents' tokens before the
    vocabulary; and `mean_vectors` (mean word vector of `--vectors` + logistic regression).
    """
    from lightning_nlp.cli.baselines import (  # scikit-learn: slow import
        DEFAULT_C,
        fit_linear_baseline,
    )

    parser = _parser(
        "Linear baselines: NB / TF-IDF n-gram or mean-word-vector logistic regression."
    )
    parser.add_argument(
        "--method",
        type=str | None,
        default=None,
        choices=[*BASELINE_METHODS, None],
        help="default: mean_vectors when --vectors is given, else nb_lr",
    )
    parser.add_argument(
        "--vectors", type=str, default=None, help="vector file or gensim name (mean_vectors)"
    )
    parser.add_argument("--vectors_format", type=str, default="auto")
    parser.add_argument(
        "--C",
        type=float,
        default=None,
        help=f"inverse regularisation strength; default {DEFAULT_C} for the n-gram methods, "
        "1.0 for mean_vectors",
    )
    config = parser.parse_args(args)
    if config.method is None:  # `--vectors V` alone keeps meaning what it always meant
        config.method = "mean_vectors" if config.vectors else "nb_lr"
    if config.method != "mean_vectors" and config.vectors:
        parser.error(f"--vectors is for --method mean_vectors, not {config.method}")
    if config.method == "mean_vectors" and not config.vectors:
        parser.error("--method mean_vectors needs --vectors (a vector file or gensim name)")
    datamodule = _instantiate_data(parser, config)
    splits = {s: datamodule.split(s) for s in ("train", "test")}
    start = time.perf_counter()
    if config.method == "mean_vectors":
        predicted = _mean_vectors_predictions(datamodule, splits, config)
    else:
        tokens = {s: datamodule.split_tokens(s) for s in splits}
        model = fit_linear_baseline(
            config.method, tokens["train"], splits["train"].labels, config.C
        )
        predicted = model.predict(tokens["test"])
    seconds = time.perf_counter() - start
    truth = splits["test"].labels
    matrix = np.zeros((datamodule.num_classes,) * 2, dtype=np.int64)
    np.add.at(matrix, (truth, predicted), 1)
    report = classification_report(matrix, datamodule.label_names)
    result: dict[str, Any] = {
        "method": config.method,
        "test/acc": float((predicted == truth).mean()),
        "train_docs": len(splits["train"].labels),
        "test_docs": len(truth),
        "C": config.C if config.C is not None else DEFAULT_C.get(config.method, 1.0),
        "seconds": round(seconds, 3),
    }
    if config.method == "mean_vectors":
        result["vectors"] = config.vectors
    print(report)  # noqa: T201
    print(json.dumps(result))  # noqa: T201
    return result


def _mean_vectors_predictions(
    datamodule: ClassificationDataModule, splits: dict[str, Any], config: Any
) -> np.ndarray:
    """Test predictions of logistic regression on mean word vectors (of the vocabulary's
    words: out-of-vocabulary ones are `<unk>`, as the neural models see them)."""
    from sklearn.linear_model import LogisticRegression

    from lightning_nlp.weights.vectors import load_vectors

    vectors = load_vectors(config.vectors, config.vectors_format)
    vocab = datamodule.vocab
    features = {
        s: mean_vectors([vocab.decode(d) for d in split.documents], vectors)
        for s, split in splits.items()
    }
    classifier = LogisticRegression(C=1.0 if config.C is None else config.C, max_iter=2000)
    classifier.fit(features["train"], splits["train"].labels)
    return classifier.predict(features["test"])
