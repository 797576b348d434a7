"""ULMFiT-style tokenisation of IMDb reviews on all cores: first run and cached run.

Reads the 100,000 reviews (train, test and unsup) from aclImdb_v1.tar.gz, tokenises them with
`tokenize_cached` into a fresh cache, then loads them again from that cache. Prints one JSON
object as its last line.

    python benchmarks/tokenize_throughput.py [--data_dir ../shared/data/imdb] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import os
import tarfile
import tempfile
import time
from pathlib import Path

from lightning_nlp.data.text.token_cache import tokenize_cached


def read_imdb_reviews(archive: Path, limit: int | None = None) -> list[str]:
    texts = []
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            parts = member.name.split("/")
            if member.isfile() and len(parts) == 4 and parts[2] in ("pos", "neg", "unsup"):
                texts.append(tar.extractfile(member).read().decode("utf-8"))
                if limit and len(texts) >= limit:
                    break
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data_dir", default="../shared/data/imdb")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    archive = Path(args.data_dir) / "aclImdb_v1.tar.gz"
    if not archive.is_file():
        raise SystemExit(f"{archive} not found: pass --data_dir with the IMDb tarball")
    start = time.perf_counter()
    texts = read_imdb_reviews(archive, args.limit)
    read_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        table = tokenize_cached(texts, "ulmfit", cache)
        first_s = time.perf_counter() - start
        start = time.perf_counter()
        cached = tokenize_cached(texts, "ulmfit", cache)
        cached_s = time.perf_counter() - start
    assert len(cached) == len(table) == len(texts)
    print(
        json.dumps(
            {
                "benchmark": "tokenize_throughput",
                "tokenizer": "ulmfit",
                "reviews": len(texts),
                "tokens": int(len(table.ids)),
                "types": len(table.types),
                "cores": os.cpu_count(),
                "read_tar_s": round(read_s, 2),
                "first_run_s": round(first_s, 2),
                "first_run_docs_per_s": round(len(texts) / first_s, 1),
                "cached_run_s": round(cached_s, 2),
                "cached_docs_per_s": round(len(texts) / cached_s, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
