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
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

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


def ensemble(
    predictions: list[str] | None = None,
    output: str = "-",
    labels: str | None = None,
    runs: list[str] | None = None,
) -> None:
    """Writes the averaged predictions as JSON lines to `output` ("-": standard output);
    with `labels`, prints each file's accuracy and the average's. With `runs` instead, prints
    the test accuracies of tested runs and of their average (`ensemble_test_runs`)."""
    if (predictions is None) == (runs is None):
        raise CorpusError("give either --predictions (files) or --runs (tested run folders)")
    if runs is not None:
        if labels is not None or output != "-":
            raise CorpusError("--runs reads the runs' own test labels and writes no file: "
                              "--labels and --output go with --predictions")  # fmt: skip
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
