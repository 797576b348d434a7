"""ELMo speed on this machine: embedding throughput, and the classifier's epoch with and
without the on-disk layer cache.

1. Embedding: a frozen biLM in eval mode, no gradients, batches of 32 sentences (TREC
   questions with `--data-dir`, else synthetic 11-token sentences), for the small
   configuration of `configs/elmo/bilm_imdb.yaml` and the published size
   (2x4096_512_2048cnn_2xhighway, random weights: speed does not depend on them):
   sentences/s, tokens/s and seconds per sentence.
2. Downstream (needs `--data-dir`, TREC): the ELMo classifier of `configs/elmo/trec_elmo.yaml`
   (its sizes, a trained 300-d word embedding beside ELMo) on the small biLM, one training
   epoch (forward, backward, Adadelta) without the cache, then with it: the first epoch fills
   it, the second reads it. `cache_speedup` = uncached epoch seconds / cached epoch seconds.
   The same with ELMo alone (`embed_dim` 0: no embedding to update, `elmo_only_*`), and for
   the published size (ELMo alone) over the first `--published-batches` training batches
   (`published_cache_speedup`).
Last line: one JSON object.

    python benchmarks/elmo_throughput.py [--data-dir ../shared/data/trec] [--published-batches 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable, Iterable
from itertools import islice
from pathlib import Path

import torch
import torch.nn.functional as F
import yaml

from lightning_nlp.data.classification.dataset import TextBatch
from lightning_nlp.data.classification.trec import TRECDataModule
from lightning_nlp.data.text.vocab import SPECIALS, Vocab
from lightning_nlp.nn.elmo.bilm import BiLM
from lightning_nlp.nn.elmo.characters import batch_char_ids
from lightning_nlp.nn.elmo.language_model import BiLMLanguageModel
from lightning_nlp.weights.elmo import PretrainedElmoClassifier, bilm_from_options
from lightning_nlp.weights.pretrained import save_pretrained

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED_OPTIONS = {  # elmo_2x4096_512_2048cnn_2xhighway_options.json
    "lstm": {"use_skip_connections": True, "projection_dim": 512, "cell_clip": 3,
             "proj_clip": 3, "dim": 4096, "n_layers": 2},
    "char_cnn": {"activation": "relu", "n_highway": 2, "embedding": {"dim": 16},
                 "filters": [[1, 32], [2, 32], [3, 64], [4, 128], [5, 256], [6, 512], [7, 1024]],
                 "n_characters": 262, "max_characters_per_token": 50},
}  # fmt: skip
BATCH = 32


def small_network(vocab_size: int) -> BiLMLanguageModel:
    config = yaml.safe_load((ROOT / "configs/elmo/bilm_imdb.yaml").read_text())
    args = config["model"]["init_args"]["network"]["init_args"]
    torch.manual_seed(0)
    return BiLMLanguageModel(vocab_size, **args)


def sentences(data_dir: str | None, count: int) -> list[list[str]]:
    if data_dir:
        data = TRECDataModule(data_dir)
        texts = data.texts("train").texts[:count]
        return [text.split() for text in texts]
    words = "how far is it from denver to aspen what city who wrote the book".split()
    return [[words[(i + j) % len(words)] for j in range(11)] for i in range(count)]


def embedding_rate(bilm: BiLM, batches: list[torch.Tensor]) -> dict[str, float]:
    bilm.eval()
    with torch.no_grad():
        bilm(batches[0])  # warm-up
        start = time.perf_counter()
        for chars in batches:
            bilm(chars)
        seconds = time.perf_counter() - start
    count = sum(len(c) for c in batches)
    tokens = sum(int((c[..., 0] > 0).sum()) for c in batches)
    return {
        "sentences_per_s": count / seconds,
        "tokens_per_s": tokens / seconds,
        "s_per_sentence": seconds / count,
    }


def classifier_epoch(network: PretrainedElmoClassifier, batches: Iterable[TextBatch]) -> float:
    optimizer = torch.optim.Adadelta([p for p in network.parameters() if p.requires_grad], lr=1.0)
    network.train()
    start = time.perf_counter()
    for batch in batches:
        loss = F.cross_entropy(network(batch.tokens, batch.lengths), batch.labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def classifier_sizes() -> dict[str, int | float]:
    """The TREC ELMo classifier's arguments in its config, less the weights and cache paths."""
    config = yaml.safe_load((ROOT / "configs/elmo/trec_elmo.yaml").read_text())
    args = dict(config["model"]["init_args"]["network"]["init_args"])
    return {k: v for k, v in args.items() if k not in ("elmo_weights", "cache_dir")}


def cache_comparison(
    network: torch.nn.Module,
    data: TRECDataModule,
    tmp: Path,
    batches: Callable[[], Iterable[TextBatch]],
    **sizes: int | float,
) -> dict[str, float]:
    """Seconds of one pass without the cache, one filling it, one reading it."""
    folder = tmp / "bilm"
    save_pretrained(folder, network, Vocab(list(SPECIALS)), "nltk")

    def classifier(cache: Path | None) -> PretrainedElmoClassifier:
        torch.manual_seed(0)
        net = PretrainedElmoClassifier(
            data.vocab_size, data.num_classes, str(folder), cache_dir=cache, **sizes
        )
        net.set_vocabulary(data.vocab.itos)
        return net

    uncached = classifier_epoch(classifier(None), batches())
    cached_net = classifier(tmp / "layers")
    filling = classifier_epoch(cached_net, batches())
    cached = classifier_epoch(cached_net, batches())
    return {
        "epoch_s_uncached": uncached,
        "epoch_s_filling_cache": filling,
        "epoch_s_cached": cached,
        "cache_speedup": uncached / cached,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", help="TREC folder (train_5500.label)")
    parser.add_argument("--small-batches", type=int, default=20)
    parser.add_argument("--published-batches", type=int, default=2)
    args = parser.parse_args()
    text = sentences(args.data_dir, BATCH * max(args.small_batches, args.published_batches) + BATCH)
    batches = [batch_char_ids(text[i : i + BATCH]) for i in range(0, len(text), BATCH)]
    result: dict[str, float | int | str] = {"threads": torch.get_num_threads(), "batch": BATCH}
    network = small_network(len(SPECIALS))  # the softmax is not used here
    for name, bilm, count in (
        ("small", network.bilm, args.small_batches),
        ("published", bilm_from_options(PUBLISHED_OPTIONS), args.published_batches),
    ):
        rate = embedding_rate(bilm, batches[: count + 1])
        print(f"{name}: {rate}")  # noqa: T201
        result.update({f"{name}_{k}": round(v, 4) for k, v in rate.items()})
    if args.data_dir:
        data = TRECDataModule(args.data_dir, batch_size=BATCH)
        data.setup("fit")
        with tempfile.TemporaryDirectory() as tmp:
            # the small biLM: whole training epochs (reshuffled, the same sentences)
            sizes = classifier_sizes()
            small = cache_comparison(network, data, Path(tmp), data.train_dataloader, **sizes)
            print(f"TREC classifier epochs, small biLM, {sizes}: {small}")  # noqa: T201
            result.update({k: round(v, 3) for k, v in small.items()})
            alone = {**sizes, "embed_dim": 0}
            elmo_only = cache_comparison(
                network, data, Path(tmp) / "alone", data.train_dataloader, **alone
            )
            print(f"the same, ELMo alone: {elmo_only}")  # noqa: T201
            result.update({f"elmo_only_{k}": round(v, 3) for k, v in elmo_only.items()})
            # the published size, ELMo alone: the same first batches, three times
            fixed = list(islice(data.train_dataloader(), args.published_batches))
            published = cache_comparison(
                bilm_from_options(PUBLISHED_OPTIONS), data, Path(tmp) / "p", lambda: fixed,
                **alone,
            )  # fmt: skip
            print(f"{len(fixed)} TREC batches, published size: {published}")  # noqa: T201
            result.update({f"published_{k}": round(v, 3) for k, v in published.items()})
    print(json.dumps(result))  # noqa: T201


if __name__ == "__main__":
    main()
