"""`lightning-nlp ensemble`: average the class probabilities of several `predict` outputs, e.g.
ULMFiT's forward and backward classifiers (Howard & Ruder 2018 average the two).

    lightning-nlp predict --config fwd.yaml --ckpt_path runs/fwd --data.predict_file x.txt --predictions.output fwd.jsonl
    lightning-nlp predict --config bwd.yaml --ckpt_path runs/bwd --data.predict_file x.txt --predictions.output bwd.jsonl
    lightning-nlp ensemble --predictions [fwd.jsonl,bwd.jsonl] --output both.jsonl
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from jsonargparse import ArgumentParser

from lightning_nlp.data.io import CorpusError, atomic_write_text, read_lines


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


def ensemble(predictions: list[str], output: str = "-") -> None:
    """Writes the averaged predictions as JSON lines to `output` ("-": standard output)."""
    text = "".join(json.dumps(row) + "\n" for row in average_predictions(predictions))
    if output == "-":
        sys.stdout.write(text)
    else:
        atomic_write_text(output, text)


def ensemble_cli(argv: list[str]) -> None:
    parser = ArgumentParser(prog="lightning-nlp ensemble", description=__doc__)
    parser.add_function_arguments(ensemble, as_positional=False)
    ensemble(**parser.parse_args(argv).as_dict())
