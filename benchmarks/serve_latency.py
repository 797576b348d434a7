"""Requests/s and latency of `lightning-nlp serve` at 1, 8 and 32 concurrent clients.

Starts the server on a model folder, sends `--requests` single-review requests (IMDb test
reviews) from each number of concurrent clients, and reports requests/s and the p50/p99
latency of each. Last line: one JSON object.

    python benchmarks/serve_latency.py --model runs/.../pretrained [--requests 256]
        [--data-dir ../shared/data/imdb] [--max-batch-size 32]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from inference import read_test_set

EXE = shutil.which("lightning-nlp", path=str(Path(sys.executable).parent))


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
    args = parser.parse_args()
    texts, _ = read_test_set(args.data_dir, args.requests)
    log = tempfile.NamedTemporaryFile(suffix=".log", delete=False)
    command = [EXE, "serve", args.model, "--port", str(args.port),
               "--max_batch_size", str(args.max_batch_size)]  # fmt: skip
    server = subprocess.Popen(command, stdout=log, stderr=log, start_new_session=True)
    url = f"http://127.0.0.1:{args.port}"
    results = {}
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{url}/health", timeout=2).read()
                break
            except OSError:
                time.sleep(0.5)
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
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        finally:
            with contextlib.suppress(ProcessLookupError):  # any worker left behind
                os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    summary = {"benchmark": "serve_latency", "model": args.model, "requests": len(texts),
               "max_batch_size": args.max_batch_size,
               **{f"clients_{c}_{k}": v for c, r in results.items() for k, v in r.items()}}  # fmt: skip
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
