"""Is NB-LR averaged with a logistic regression on PV-DBOW document vectors a better teacher for
self-training with 100 IMDb labels than NB-LR alone? Validation reviews only.

The vectors (`weights.doc_vectors`) are trained once, without labels, on the text of the
training, validation and `unsup` reviews (as the language model reads them); for each seed's
sample (`--data.train_size` with `--data.subset_seed`, the curve's samples) a logistic
regression is fitted on the sample's vectors (`pseudo_labels.fit_vector_lr`) and NB-LR on its
uni+bigrams. Reported per seed,
for the vectors alone, NB-LR alone and their average (`pseudo_labels.FittedTeacher`'s rule):
validation accuracy, and accuracy on the fifth of the validation reviews each is surest of (the
`unsup` reviews a teacher hands on are its surest fifth). The test set is not read. Last line:
one JSON object.

    python benchmarks/doc2vec_teacher.py --data_dir ../shared/data/imdb --epochs 20
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from lightning_nlp.cli.baselines import class_probabilities, fit_linear_baseline
from lightning_nlp.cli.curve import _sample, labelled_sample
from lightning_nlp.cli.pseudo_labels import confidence, fit_vector_lr
from lightning_nlp.weights.doc_vectors import DocVectors


def scores(probabilities: np.ndarray, truth: np.ndarray, surest: float = 0.2) -> list[float]:
    """[accuracy, accuracy on the `surest` fraction the model is surest of] of (N, C)
    probabilities against (N,) class ids."""
    right = probabilities.argmax(axis=1) == truth
    top = np.argsort(-confidence(probabilities), kind="stable")[: int(surest * len(truth))]
    return [float(right.mean()), float(right[top].mean())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data_dir", required=True)
    parser.add_argument("--classifier", default="configs/ulmfit/imdb_cpu_clas.yaml")
    parser.add_argument("--labels", type=int, default=100)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 1, 2])
    parser.add_argument("--epochs", type=int, nargs="+", default=[20])
    parser.add_argument("--sample", type=float, default=1e-4, help="doc2vec down-sampling")
    args = parser.parse_args()
    start = time.perf_counter()
    full = _sample(args.classifier, ["--data.data_dir", args.data_dir])
    train, valid = full.split_tokens("train"), full.split_tokens("valid")
    y_valid = np.asarray(full.split("valid").labels)  # (N,) class ids
    _, unlabeled = full.unlabeled_tokens()
    position = {tuple(doc): i for i, doc in enumerate(train)}
    samples = {}
    for seed in args.seeds:
        sample = labelled_sample(args.classifier, args.data_dir, args.labels, seed)
        docs = sample.split_tokens("train")
        samples[seed] = (
            docs,
            np.asarray(sample.split("train").labels),
            [position[tuple(d)] for d in docs],
        )
    result: dict = {"labels": args.labels, "sample": args.sample, "epochs": {}}
    for epochs in args.epochs:
        vectors = DocVectors([*train, *valid, *unlabeled], epochs=epochs, sample=args.sample)
        valid_vectors = vectors.vectors[len(train) : len(train) + len(valid)]
        result["epochs"][epochs] = {}
        for seed, (docs, y, rows) in samples.items():
            lr = fit_vector_lr(vectors.vectors[rows], y)
            by_vectors = lr.predict_proba(valid_vectors)  # (N, 2)
            by_nb_lr = class_probabilities(fit_linear_baseline("nb_lr", docs, y), valid)
            row = {
                "doc2vec": scores(by_vectors, y_valid),
                "nb_lr": scores(by_nb_lr, y_valid),
                "average": scores((by_vectors + by_nb_lr) / 2, y_valid),
            }
            result["epochs"][epochs][seed] = row
            print(f"{epochs} epochs, seed {seed}:",
                  ", ".join(f"{k} {100 * a:.1f}% (surest fifth {100 * s:.1f}%)" for k, (a, s) in row.items()),
                  f"({time.perf_counter() - start:.0f} s)", flush=True)  # fmt: skip
    result["minutes"] = (time.perf_counter() - start) / 60
    print(json.dumps(result))


if __name__ == "__main__":
    main()
