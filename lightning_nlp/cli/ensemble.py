"""`lightning-nlp ensemble`: average the class probabilities of several `predict` outputs, e.g.
ULMFiT's forward and backward classifiers (Howard & Ruder 2018 average the two).

    lightning-nlp predict --config fwd.yaml --ckpt_path runs/fwd --data.predict_file x.txt --predictions.output fwd.jsonl
    lightning-nlp predict --config bwd.yaml --ckpt_path runs/bwd --data.predict_file x.txt --predictions.output bwd.jsonl
    lightning-nlp ensemble --predictions [fwd.jsonl,bwd.jsonl] --output both.jsonl --labels gold.txt

With `--labels` (one gold label a line, in the documents' order) it also prints the accuracy
of each file and of their average to standard error.

Finished classifier runs that were tested (`fit` with a test, or `test`) keep their test
probabilities in `test_probabilities.npz`; `--runs` averages those and prints the test
accuracy of each run and of the average as one JSON line, with no prediction files:

    lightning-nlp ensemble --runs [runs/classify/fwd/version_0,runs/classify/bwd/version_0]

`--with_nb_lr RUN` averages a tested two-class run with NB-LR (`lightning-nlp baseline`'s
naive-Bayes-weighted uni+bigram logistic regression) fitted on exactly the documents the run
trained on (its `config.yaml` rebuilds them: the same sample and pseudo-labels), the
classifier's weight chosen on the validation split (`nb_lr_ensemble`). A bag of bigrams and a
classifier that reads word order make different mistakes: on IMDb the average beats both.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from jsonargparse import ArgumentParser

from lightning_nlp.data.text.io import CorpusError, atomic_write_text, read_lines


def _read(path: str | Path) -> list[dict[str, float]]:
    rows = []
    for number, line in enumerate(read_lines(path), start=1):
        try:
            probs = json.loads(line)["probs"]
        except (ValueError, KeyError, TypeError):
            raise CorpusError(f"{path}:{number}: not a prediction line with 'probs'") from None
        rows.append({str(k): float(v) for k, v in probs.items()})
    return rows


def average_predictions(paths: list[str]) -> list[dict[str, object]]:
    """One `{"label", "probs"}` per document: the mean of the files' probabilities. The files
    must hold the same documents (line count) and the same label set."""
    if len(paths) < 2:
        raise CorpusError("give at least two prediction files to average")
    tables = [_read(path) for path in paths]
    for path, table in zip(paths[1:], tables[1:]):
        if len(table) != len(tables[0]):
            raise CorpusError(f"{path}: {len(table)} lines, {paths[0]} has {len(tables[0])}")
    averaged = []
    for number, rows in enumerate(zip(*tables), start=1):
        labels = list(rows[0])
        for path, row in zip(paths[1:], rows[1:]):
            if set(row) != set(labels):
                raise CorpusError(
                    f"{path}:{number}: labels {sorted(row)}, expected {sorted(labels)}"
                )
        mean = {label: sum(row[label] for row in rows) / len(rows) for label in labels}
        averaged.append({"label": max(mean, key=mean.__getitem__), "probs": mean})
    return averaged


def accuracy(predicted: list[str], gold: list[str]) -> float:
    return sum(p == g for p, g in zip(predicted, gold, strict=True)) / len(gold)


def ensemble_test_runs(run_dirs: list[str]) -> dict[str, object]:
    """Test accuracy of each run's `test_probabilities.npz` and of their average. The runs
    must have been tested on the same documents in the same order with the same labels
    (the forward and backward classifiers of one sample do: the file is in the split's order).
    """
    from lightning_nlp.tasks.text_classifier import TEST_PROBABILITIES

    if len(run_dirs) < 2:
        raise CorpusError("give at least two tested runs to average")
    tables = []
    for folder in run_dirs:
        path = Path(folder) / TEST_PROBABILITIES
        if not path.is_file():
            raise CorpusError(f"{path}: no test probabilities (test the run first)")
        with np.load(path) as table:
            tables.append({k: table[k] for k in ("index", "labels", "probs")})
    for folder, table in zip(run_dirs[1:], tables[1:]):
        if table["probs"].shape != tables[0]["probs"].shape:
            raise CorpusError(f"{folder} and {run_dirs[0]} have other classes "
                              f"({table['probs'].shape} and {tables[0]['probs'].shape})")  # fmt: skip
        for key in ("index", "labels"):
            if not np.array_equal(table[key], tables[0][key]):
                raise CorpusError(
                    f"{folder} and {run_dirs[0]} were tested on other documents ({key} differ)"
                )
    gold = tables[0]["labels"]  # (N,)
    mean = sum(t["probs"] for t in tables) / len(tables)  # (N, C)
    return {
        "runs": {
            str(f): float((t["probs"].argmax(-1) == gold).mean()) for f, t in zip(run_dirs, tables)
        },
        "ensemble_acc": float((mean.argmax(-1) == gold).mean()),
        "documents": len(gold),
    }


WEIGHTS = tuple(i / 10 for i in range(11))  # the classifier's share of an average with NB-LR


def choose_weight(
    net: np.ndarray, linear: np.ndarray, gold: np.ndarray
) -> tuple[float, dict[float, float]]:
    """The weight w of (N,) `net` in w * net + (1 - w) * linear (each the probability of the
    second class) with the best accuracy against (N,) class ids `gold`, among `WEIGHTS`; ties go
    to the w nearest 0.5 (an equal average unless the data say otherwise), and between two as
    near, to the smaller. Returns w and every weight's accuracy."""
    accs = {w: float((((w * net + (1 - w) * linear) > 0.5) == gold).mean()) for w in WEIGHTS}
    best = max(accs.values())
    return min((w for w, a in accs.items() if a == best), key=lambda w: abs(w - 0.5)), accs


def nb_lr_ensemble(run_dir: str | Path) -> dict[str, Any]:
    """A tested two-class classifier run averaged with NB-LR, the weight chosen on validation.

    NB-LR is fitted on the run's training documents, rebuilt from its `config.yaml` (sample,
    seed, pseudo-labelled documents: for a self-trained run it is the curve's `nb_lr_pseudo`).
    The run's best checkpoint predicts the validation split (in fp32, whatever precision the run
    tested in); the classifier's weight w is chosen there (`choose_weight`; the same validation
    split chose the best checkpoint, which favours the classifier a little); the test split's
    probabilities are the run's `test_probabilities.npz`. As a control, TF-IDF LR fitted on the
    same documents is averaged with NB-LR the same way (two bag-of-n-gram models: how much an
    average gains without the language model).

    Returns:
        {"run", "labels" (the run's train_size), "seed", "train_docs", "weight" (the
        classifier's), "tfidf_weight" (TF-IDF LR's in the control), "val": {...}, "test": {...},
        "seconds"}; "val" and "test" hold the accuracies of "classifier", "nb_lr",
        "classifier_nb_lr" (the average at `weight`), "equal" (at w = 0.5), "tfidf_lr" (fitted
        on the same documents) and "tfidf_nb_lr" (the control, its weight chosen on
        validation: `tfidf_weight`).
    """
    from lightning_nlp.cli.baselines import fit_linear_baseline, positive_probability
    from lightning_nlp.cli.commands import _datamodule, _parser
    from lightning_nlp.inference.predictor import load
    from lightning_nlp.tasks.text_classifier import TEST_PROBABILITIES

    start = time.perf_counter()
    run = Path(run_dir)
    tested = run / TEST_PROBABILITIES
    if not tested.is_file():
        raise CorpusError(f"{tested}: no test probabilities (test the run first)")
    best = sorted((run / "checkpoints").glob("best-*.ckpt"))
    if len(best) != 1:
        raise CorpusError(f"{run / 'checkpoints'}: expected one best-*.ckpt, found {len(best)}")
    data = _datamodule(_parser("ensemble"), ["--config", str(run / "config.yaml")])[0]
    names = data.label_names
    if len(names) != 2:
        raise CorpusError(f"{run}: averaging with NB-LR is for two classes, not {names}")
    train_labels = np.asarray([names[i] for i in data.split("train").labels])
    train_docs = data.split_tokens("train")
    valid = data.texts("valid")
    docs = {split: data.split_tokens(split) for split in ("valid", "test")}  # tokenised once
    if len(docs["valid"]) != len(valid):
        raise CorpusError(f"{run}: an empty validation document; tokens and texts would not align")
    with np.load(tested) as table:
        net_test, y_test = table["probs"][:, 1], table["labels"]  # (T,), (T,)
    if not np.array_equal(y_test, data.split("test").labels):
        raise CorpusError(f"{tested}: other test documents than {run}/config.yaml's test split")
    classifier = load(best[0])  # fp32: the command line's numbers
    if classifier.labels != names:
        raise CorpusError(f"{best[0]}: labels {classifier.labels}, its data's are {names}")
    net_val = classifier.predict_probs(valid.texts).float().numpy()[:, 1]  # (V,)
    y_val = np.asarray([names.index(label) for label in valid.labels])  # (V,)
    linear = {}  # method -> (val, test) probabilities of names[1]
    for method in ("nb_lr", "tfidf_lr"):
        model = fit_linear_baseline(method, train_docs, train_labels)
        linear[method] = tuple(
            positive_probability(model, docs[split], names[1]) for split in ("valid", "test")
        )
    nb_val, nb_test = linear["nb_lr"]
    weight = choose_weight(net_val, nb_val, y_val)[0]
    tfidf_weight = choose_weight(linear["tfidf_lr"][0], nb_val, y_val)[0]

    def mixed(w: float, first: np.ndarray, second: np.ndarray, gold: np.ndarray) -> float:
        return float((((w * first + (1 - w) * second) > 0.5) == gold).mean())

    def scores(
        net: np.ndarray, nb: np.ndarray, tfidf: np.ndarray, gold: np.ndarray
    ) -> dict[str, float]:
        return {
            "classifier": mixed(1.0, net, nb, gold),
            "nb_lr": mixed(0.0, net, nb, gold),
            "classifier_nb_lr": mixed(weight, net, nb, gold),
            "equal": mixed(0.5, net, nb, gold),
            "tfidf_lr": mixed(1.0, tfidf, nb, gold),
            "tfidf_nb_lr": mixed(tfidf_weight, tfidf, nb, gold),
        }

    return {
        "run": str(run),
        "labels": data.hparams.train_size,
        "seed": data.hparams.subset_seed,
        "train_docs": len(train_labels),
        "weight": weight,
        "tfidf_weight": tfidf_weight,
        "val": scores(net_val, nb_val, linear["tfidf_lr"][0], y_val),
        "test": scores(net_test, nb_test, linear["tfidf_lr"][1], y_test),
        "seconds": time.perf_counter() - start,
    }


def ensemble(
    predictions: list[str] | None = None,
    output: str = "-",
    labels: str | None = None,
    runs: list[str] | None = None,
    with_nb_lr: list[str] | None = None,
) -> None:
    """Writes the averaged predictions as JSON lines to `output` ("-": standard output);
    with `labels`, prints each file's accuracy and the average's. With `runs` instead, prints
    the test accuracies of tested runs and of their average (`ensemble_test_runs`). With
    `with_nb_lr`, prints one JSON line per tested run: it averaged with NB-LR (`nb_lr_ensemble`).
    """
    if sum(x is not None for x in (predictions, runs, with_nb_lr)) != 1:
        raise CorpusError("give one of --predictions (files), --runs (tested run folders) or "
                          "--with_nb_lr (tested run folders)")  # fmt: skip
    if with_nb_lr == [] or runs == []:
        raise CorpusError("no run folders given")
    if (runs is not None or with_nb_lr is not None) and (labels is not None or output != "-"):
        raise CorpusError("--runs and --with_nb_lr read the runs' own test labels and write no "
                          "file: --labels and --output go with --predictions")  # fmt: skip
    if with_nb_lr is not None:
        for run in with_nb_lr:
            print(json.dumps(nb_lr_ensemble(run)), flush=True)  # noqa: T201
        return
    if runs is not None:
        print(json.dumps(ensemble_test_runs(runs)))  # noqa: T201
        return
    averaged = average_predictions(predictions)
    if labels is not None:
        gold = read_lines(labels)
        if len(gold) != len(averaged):
            raise CorpusError(f"{labels}: {len(gold)} labels for {len(averaged)} predictions")
        for path in predictions:
            best = [max(row, key=row.__getitem__) for row in _read(path)]
            print(f"{path}: accuracy {accuracy(best, gold):.4f}", file=sys.stderr)  # noqa: T201
        print(  # noqa: T201
            f"average: accuracy {accuracy([r['label'] for r in averaged], gold):.4f}",
            file=sys.stderr,
        )
    text = "".join(json.dumps(row) + "\n" for row in averaged)
    if output == "-":
        sys.stdout.write(text)
    else:
        atomic_write_text(output, text)


def ensemble_cli(argv: list[str]) -> None:
    parser = ArgumentParser(prog="lightning-nlp ensemble", description=__doc__)
    parser.add_function_arguments(ensemble, as_positional=False)
    ensemble(**parser.parse_args(argv).as_dict())
