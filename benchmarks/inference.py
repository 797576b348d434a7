"""Prediction speed, peak memory and accuracy of a trained classifier per backend.

Each backend runs in a fresh process (`lightning_nlp.load(model, backend)`, texts predicted
in chunks of `--chunk` as `predict` and a server see them): documents/s over the IMDb test
reviews (or the sentences of an SST-2 `stsa.binary.*` file with `--stsa-file`), the process's
peak resident memory, and accuracy against the gold labels. fp32 also
runs over the first 5,000 reviews, to show that peak memory does not grow with the number of
documents. bf16 runs only where the CPU has bf16 units (it is refused elsewhere: null);
torchscript and onnx need the graphs of `lightning-nlp export --torchscript true --onnx true`.
Last line: one JSON object.

    python benchmarks/inference.py --model runs/.../pretrained --data-dir ../shared/data/imdb
        [--docs 25000] [--backends fp32 bf16 int8 torchscript onnx] [--batch-size 64]
    python benchmarks/inference.py --model runs/classify/sst2_gru/version_0/pretrained \
        --stsa-file ../shared/data/sst2/stsa.binary.test --backends fp32 bf16 int8
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

SMALL = 5000


def read_test_set(data_dir: str, docs: int) -> tuple[list[str], list[str]]:
    """Texts and gold labels ("positive"/"negative") of the first `docs` test reviews, interleaved so
    that any prefix holds both classes."""
    from lightning_nlp.data.classification.imdb import LABELS, iter_imdb

    by_label: dict[str, list[str]] = {"pos": [], "neg": []}
    for _, label, text, _ in iter_imdb(data_dir, ["test"], ["pos", "neg"]):
        by_label[label].append(text)
    pairs = [(t, LABELS[label]) for both in zip(by_label["pos"], by_label["neg"]) for t, label in
             zip(both, ("pos", "neg"))]  # fmt: skip
    pairs = pairs[:docs]
    return [t for t, _ in pairs], [label for _, label in pairs]


def read_stsa_file(path: str, docs: int) -> tuple[list[str], list[str]]:
    """Sentences and gold labels ("positive"/"negative") of an SST-2 `stsa.binary.*` file."""
    from lightning_nlp.data.classification.sst2 import read_stsa

    data = read_stsa(Path(path))
    return data.texts[:docs], data.labels[:docs]


def worker(model: str, backend: str, texts_file: str, docs: int, chunk: int, batch: int) -> None:
    import lightning_nlp

    data = json.loads(Path(texts_file).read_text())
    texts, gold = data["texts"][:docs], data["labels"][:docs]
    predictor = lightning_nlp.load(model, backend=backend, batch_size=batch)
    predictor.predict(texts[:batch])  # warm-up
    start = time.perf_counter()
    correct = 0
    for i in range(0, len(texts), chunk):
        for result, label in zip(predictor.predict(texts[i : i + chunk]), gold[i : i + chunk]):
            correct += result["label"] == label
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"backend": backend, "docs": len(texts), "docs_per_s": len(texts) / seconds,
                      "seconds": seconds, "accuracy": correct / len(texts),
                      "peak_mb": peak_mb}))  # fmt: skip


def run_worker(args: argparse.Namespace, backend: str, docs: int, texts_file: str) -> dict | None:
    command = [sys.executable, __file__, "--worker", "--model", args.model, "--backend", backend,
               "--texts-file", texts_file, "--docs", str(docs), "--chunk", str(args.chunk),
               "--batch-size", str(args.batch_size)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        print(f"{backend}: failed: {last}", file=sys.stderr)
        return None
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(result), file=sys.stderr)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="model folder, checkpoint or run folder")
    parser.add_argument("--data-dir", default="../shared/data/imdb")
    parser.add_argument(
        "--stsa-file", help="an SST-2 stsa.binary.* file instead of IMDb's test set"
    )
    parser.add_argument("--docs", type=int, default=25000)
    parser.add_argument(
        "--backends", nargs="+", default=["fp32", "bf16", "int8", "torchscript", "onnx"]
    )
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--chunk", type=int, default=1000, help="texts per predict() call")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--backend", help=argparse.SUPPRESS)
    parser.add_argument("--texts-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.model, args.backend, args.texts_file, args.docs, args.chunk, args.batch_size)
        return
    from lightning_nlp.training.precision import bf16_support

    if args.stsa_file:
        texts, labels = read_stsa_file(args.stsa_file, args.docs)
    else:
        texts, labels = read_test_set(args.data_dir, args.docs)
    with tempfile.TemporaryDirectory() as tmp:  # one file per size: a worker reads only its own
        files = {}
        for n in (len(texts), min(SMALL, len(texts))):
            files[n] = Path(tmp) / f"{n}.json"
            files[n].write_text(json.dumps({"texts": texts[:n], "labels": labels[:n]}))
        results = {
            b: run_worker(args, b, len(texts), str(files[len(texts)])) for b in args.backends
        }
        small_n = min(SMALL, len(texts))  # with SMALL documents or fewer, the run above is it
        small = (
            run_worker(args, "fp32", small_n, str(files[small_n])) if small_n < len(texts) else None
        )
    fp32 = results.get("fp32")
    summary = {
        "benchmark": "inference",
        "model": args.model,
        "data": args.stsa_file or args.data_dir,
        "docs": len(texts),
        "threads": torch.get_num_threads(),
        "cpu_bf16": bf16_support("cpu").describe(),
        **{
            f"{b}_{k}": (round(r[k], 4) if r else None)
            for b, r in results.items()
            for k in ("docs_per_s", "accuracy", "peak_mb")
        },  # fmt: skip
        **{
            f"{b}_speedup": (round(r["docs_per_s"] / fp32["docs_per_s"], 3) if r and fp32 else None)
            for b, r in results.items()
        },  # fmt: skip
        f"fp32_peak_mb_{small_n}_docs": round(small["peak_mb"], 1) if small else None,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
