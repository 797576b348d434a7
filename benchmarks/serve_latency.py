"""Requests/s and latency of `lightning-nlp serve` at 1, 8 and 32 concurrent clients.

Starts the server on a model folder, sends `--requests` single-review requests (IMDb test
reviews) from each number of concurrent clients, and reports requests/s and the p50/p99
latency of each. Last line: one JSON object.

    python benchmarks/serve_latency.py --model runs/.../pretrained [--requests 256]
        [--data-dir ../shared/data/imdb] [--max-batch-size 32]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from inference import read_test_set

from lightning_nlp.inference.serve import background_server


def post(url: str, text: str) -> float:
    body = json.dumps({"text": text}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=300) as response:
        response.read()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--data-dir", default="../shared/data/imdb")
    parser.add_argument("--requests", type=int, default=256)
    parser.add_argument("--max-batch-size", type=int, default=32)
    parser.add_argument("--port", type=int, default=8789)
    parser.add_argument("--backend", default="auto", help="as `lightning-nlp serve --backend`")
    args = parser.parse_args()
    import lightning_nlp

    backend = lightning_nlp.load(args.model, backend=args.backend).backend  # what auto picks
    texts, _ = read_test_set(args.data_dir, args.requests)
    results = {}
    with tempfile.TemporaryDirectory() as tmp, background_server(
        args.model, args.port, Path(tmp) / "server.log", "--max_batch_size",
        str(args.max_batch_size), "--backend", backend, start_timeout=300,
    ) as url:  # fmt: skip
        post(f"{url}/predict", texts[0])  # warm-up
        for clients in (1, 8, 32):
            start = time.perf_counter()
            with ThreadPoolExecutor(clients) as pool:
                latencies = list(pool.map(lambda t: post(f"{url}/predict", t), texts))
            seconds = time.perf_counter() - start
            results[clients] = {
                "requests_per_s": round(len(texts) / seconds, 2),
                "p50_ms": round(float(np.percentile(latencies, 50)) * 1000, 1),
                "p99_ms": round(float(np.percentile(latencies, 99)) * 1000, 1),
            }
            print(f"{clients} clients: {results[clients]}", file=sys.stderr)
    summary = {"benchmark": "serve_latency", "model": args.model, "backend": backend,
               "requests": len(texts),
               "max_batch_size": args.max_batch_size,
               **{f"clients_{c}_{k}": v for c, r in results.items() for k, v in r.items()}}  # fmt: skip
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
