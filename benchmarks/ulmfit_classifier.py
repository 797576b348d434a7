"""The paper-sized ULMFiT classifier (AWD-LSTM 400/1152/3, concat pooling, bptt 72, max_len
1440): memory against document length, and speed and padding on IMDb.

1. One training step (forward, backward, Adam) on a single document of 500, 2,000 and 5,000
   tokens, each in a fresh process: peak resident memory and seconds per document. BPT3C keeps
   the graph of the last 1,440 tokens only, so memory must not grow with the document
   (`memory_ratio_5000_vs_500`).
2. With `--data-dir` (IMDb): training (all layers, and the encoder frozen as in ULMFiT's first
   stage) and inference documents/s of the shuffled sortish training order (batch 32,
   inference 64): tokens/s over `--batches` batches after the longest one (the warm-up),
   turned into documents/s over the whole epoch; padding efficiency (real tokens over
   the token positions the encoder runs, whole epoch) and peak memory of the process (no
   worker processes).
3. With `--fastai-python`, an interpreter with fastai 2.8 installed (and `--data-dir`): fastai's
   classifier of the same sizes (`get_text_classifier(AWD_LSTM, ...)`, the model that
   `text_classifier_learner` trains) and ours run the same steps on the same IMDb batches in
   that interpreter, so that one torch build times both (torch versions differ in speed by
   more than the two implementations do); fastai's batches padded as fastai pads them
   (`pad_input_chunk`: at the front, in whole `bptt` chunks), ours as our collate does.
   Alternating rounds, the best of each; `fastai_*_ratio` is fastai's time over ours (above 1:
   ours is faster).
Last line: one JSON object.

    python benchmarks/ulmfit_classifier.py [--data-dir ../shared/data/imdb] [--batches 4]
        [--fastai-python /path/to/fastai/env/bin/python]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import torch

from lightning_nlp.nn.awd_lstm import AWDLSTMClassifier

SIZES = {"embed_dim": 400, "hidden_dim": 1152, "num_layers": 3, "bptt": 72, "max_len": 1440}
VOCAB = 60000
ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 2  # alternating timed rounds of each model in the fastai comparison


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_document_step(length: int) -> dict[str, float]:
    """Runs in a fresh process: one training step on one document of `length` tokens."""
    torch.manual_seed(0)
    model = AWDLSTMClassifier(VOCAB, 2, **SIZES).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    warm = torch.randint(4, VOCAB, (1, 16))
    model(warm, torch.tensor([16])).sum().backward()  # optimiser state and buffers allocated
    optimizer.step()
    optimizer.zero_grad()
    tokens = torch.randint(4, VOCAB, (1, length))
    start = time.perf_counter()
    loss = torch.nn.functional.cross_entropy(
        model(tokens, torch.tensor([length])), torch.tensor([1])
    )
    loss.backward()
    optimizer.step()
    return {"seconds": time.perf_counter() - start, "peak_mb": peak_mb()}


def memory_by_length(lengths: list[int]) -> dict[str, float]:
    result = {}
    for length in lengths:
        out = subprocess.run(
            [sys.executable, __file__, "--one-document", str(length)],
            capture_output=True,
            text=True,
            check=True,
        )
        measured = json.loads(out.stdout.strip().splitlines()[-1])
        result[f"peak_mb_{length}"] = round(measured["peak_mb"])
        result[f"seconds_per_doc_{length}"] = round(measured["seconds"], 2)
    result["memory_ratio_5000_vs_500"] = round(result["peak_mb_5000"] / result["peak_mb_500"], 3)
    return result


def encoded_tokens(model: AWDLSTMClassifier, lengths: np.ndarray) -> int:
    """Token positions the encoder runs for a batch of these lengths: each document from its
    first chunk to the end of the aligned batch."""
    lengths = torch.as_tensor(lengths)
    tokens = torch.zeros(len(lengths), int(lengths.max()), dtype=torch.long)
    aligned, offsets = model.aligned(tokens, lengths, 0)
    return int((aligned.shape[1] - offsets).sum())


FASTAI_SCRIPT = textwrap.dedent(
    """
    import json, sys, time, torch
    from fastai.text.all import AWD_LSTM, awd_lstm_clas_config, get_text_classifier
    from fastai.text.data import pad_input_chunk

    sys.path.insert(0, {root!r})  # lightning_nlp.nn imports torch alone
    from lightning_nlp.nn.awd_lstm import AWDLSTMClassifier

    data = torch.load(sys.argv[1], weights_only=True)
    torch.manual_seed(0)
    config = {{**awd_lstm_clas_config, "emb_sz": {embed_dim}, "n_hid": {hidden_dim},
              "n_layers": {num_layers}}}
    fastai = get_text_classifier(AWD_LSTM, data["vocab_size"], data["num_classes"],
                                 seq_len={bptt}, config=config, max_len={max_len})
    ours = AWDLSTMClassifier(data["vocab_size"], data["num_classes"], data["pad_id"],
                             {embed_dim}, {hidden_dim}, {num_layers}, bptt={bptt},
                             max_len={max_len})
    models = {{"ours": ours, "fastai": fastai}}
    encoders = {{"ours": ours.encoder, "fastai": fastai[0]}}

    def fastai_batch(documents):  # longest first, as fastai's SortedDL gives them (the
        # labels keep their order: only the time of a step is measured)
        documents = sorted(documents, key=len, reverse=True)
        samples = [(ids, 0) for ids in documents]
        return (torch.stack([s[0] for s in pad_input_chunk(samples, seq_len={bptt})]),)

    def our_batch(documents):  # right-padded, with the lengths, as our collate gives them
        lengths = torch.tensor([len(ids) for ids in documents])
        tokens = torch.full((len(documents), int(lengths.max())), data["pad_id"])
        for row, ids in enumerate(documents):
            tokens[row, : len(ids)] = ids
        return tokens, lengths

    def swap_one(documents):  # fastai pads with id 1: a real 1 becomes our <pad> id
        swapped = [ids.clone() for ids in documents]
        for ids in swapped:
            ids[ids == 1] = data["pad_id"]
        return swapped

    def logits(name, documents):
        if name == "fastai":
            return fastai(*fastai_batch(swap_one(documents)))[0]
        return ours(*our_batch(documents))

    optimizers = {{name: torch.optim.Adam(m.parameters(), lr=1e-3) for name, m in models.items()}}

    def step(name, kind, documents, labels):
        if kind == "predict":
            with torch.no_grad():
                logits(name, documents)
            return
        loss = torch.nn.functional.cross_entropy(logits(name, documents), labels)
        optimizers[name].zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(models[name].parameters(), 0.25)
        optimizers[name].step()

    def seconds(name, kind):  # the first batch is the warm-up
        batches = data["predict" if kind == "predict" else "train"]
        step(name, kind, *batches[0])
        start = time.perf_counter()
        for documents, labels in batches[1:]:
            step(name, kind, documents, labels)
        return time.perf_counter() - start

    result = {{"torch": torch.__version__}}
    for kind in ("train", "train_frozen_encoder", "predict"):
        for name, model in models.items():
            model.train(kind != "predict")
            for parameter in encoders[name].parameters():
                parameter.requires_grad_(kind == "train")
        times = {{name: [] for name in models}}
        for _ in range({rounds}):  # alternating rounds: drift of the machine hits both
            for name in times:
                times[name].append(seconds(name, kind))
        result[kind] = {{name: min(values) for name, values in times.items()}}
    print(json.dumps(result))
    """
)


def fastai_comparison(python: str, vocab_size: int, pad_id: int, batches: dict) -> dict:
    """Best-of-rounds seconds of our classifier and fastai's on the same batches, both run in
    the fastai interpreter: the same torch build times both, as versions differ in speed."""
    data = {"vocab_size": vocab_size, "num_classes": 2, "pad_id": pad_id}
    for kind, kind_batches in batches.items():
        data[kind] = [
            ([torch.as_tensor(ids) for ids in documents], torch.as_tensor(labels))
            for documents, labels in kind_batches
        ]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "batches.pt"
        torch.save(data, path)
        script = FASTAI_SCRIPT.format(root=str(ROOT), rounds=ROUNDS, **SIZES)
        out = subprocess.run(
            [python, "-c", script, str(path)], capture_output=True, text=True, check=True
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def imdb(data_dir: str, batches: int, fastai_python: str | None = None) -> dict[str, float]:
    from lightning_nlp.data.classification.dataset import SortishBatchSampler
    from lightning_nlp.data.classification.imdb import IMDbDataModule

    dm = IMDbDataModule(data_dir, max_vocab=VOCAB, batch_size=32, eval_batch_size=64)
    dm.setup("fit")
    dataset = dm._datasets["train"]
    order = SortishBatchSampler(dataset.lengths, 32, shuffle=True, seed=0).batches()
    torch.manual_seed(0)
    model = AWDLSTMClassifier(dm.vocab_size, dm.num_classes, dm.pad_id, **SIZES)
    epoch_tokens = sum(encoded_tokens(model, dataset.lengths[b]) for b in order)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def train_step(indices: np.ndarray) -> None:
        batch = dataset[indices]
        loss = torch.nn.functional.cross_entropy(model(batch.tokens, batch.lengths), batch.labels)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        optimizer.step()

    timed: dict[str, float] = {}  # seconds of each kind's sample batches

    def docs_per_s(kind: str, step, batches_in_order: list[np.ndarray], total_tokens: int) -> float:
        """Tokens/s over `batches` batches after the first, the longest (warm-up and the
        memory peak), turned into documents/s over all `total_tokens` of the epoch."""
        step(batches_in_order[0])
        sample = batches_in_order[1 : batches + 1]
        start = time.perf_counter()
        for indices in sample:
            step(indices)
        timed[kind] = time.perf_counter() - start
        tokens_per_s = sum(encoded_tokens(model, dataset.lengths[b]) for b in sample) / timed[kind]
        return tokens_per_s * len(dataset) / total_tokens

    model.train()
    train_rate = docs_per_s("train", train_step, order, epoch_tokens)
    for parameter in model.encoder.parameters():  # ULMFiT's first stage: the head alone
        parameter.requires_grad_(False)
    frozen_rate = docs_per_s("train_frozen_encoder", train_step, order, epoch_tokens)
    model.eval()
    eval_order = SortishBatchSampler(dataset.lengths, 64, shuffle=True, seed=1).batches()
    eval_tokens = sum(encoded_tokens(model, dataset.lengths[b]) for b in eval_order)
    with torch.no_grad():
        predict_rate = docs_per_s(
            "predict",
            lambda b: model(dataset[b].tokens, dataset[b].lengths),
            eval_order,
            eval_tokens,
        )
    mean_length = float(np.mean(dataset.lengths))
    fastai = {}
    if fastai_python:

        def documents(batch_indices: list[np.ndarray]) -> list:
            return [
                (
                    [np.asarray(dataset.documents[i], dtype=np.int64) for i in b],
                    [int(dataset.labels[i]) for i in b],
                )
                for b in batch_indices
            ]

        same = {
            "train": documents(order[: batches + 1]),
            "predict": documents(eval_order[: batches + 1]),
        }
        compared = fastai_comparison(fastai_python, dm.vocab_size, dm.pad_id, same)
        fastai["fastai_torch"] = compared.pop("torch")
        for kind, seconds in compared.items():
            docs = sum(len(d) for d, _ in same["predict" if kind == "predict" else "train"][1:])
            fastai[f"fastai_{kind}_ratio"] = round(seconds["fastai"] / seconds["ours"], 3)
            for name in ("ours", "fastai"):
                fastai[f"{name}_{kind}_docs_per_s_same_torch"] = round(docs / seconds[name], 2)
    return {
        "imdb_train_docs_per_s": round(train_rate, 2),
        "imdb_train_frozen_encoder_docs_per_s": round(frozen_rate, 2),
        "imdb_predict_docs_per_s": round(predict_rate, 2),
        "imdb_padding_efficiency": round(float(dataset.lengths.sum()) / epoch_tokens, 4),
        "imdb_peak_mb": round(peak_mb()),
        "imdb_mean_tokens": round(mean_length, 1),
        **fastai,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="IMDb folder (aclImdb_v1.tar.gz)")
    parser.add_argument("--batches", type=int, default=4, help="timed batches of each kind")
    parser.add_argument("--fastai-python", help="a Python interpreter with fastai installed")
    parser.add_argument("--one-document", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_document:
        print(json.dumps(one_document_step(args.one_document)))
        return
    result = {"threads": torch.get_num_threads(), **memory_by_length([500, 2000, 5000])}
    if args.data_dir:
        result.update(imdb(args.data_dir, args.batches, args.fastai_python))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
