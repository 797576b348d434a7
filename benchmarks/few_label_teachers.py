"""Two cheaper teachers for self-training with 100 IMDb labels, scored on the validation reviews:
could either label the `unsup` reviews better than NB-LR fitted on the sample (the teacher of
`lightning-nlp curve --methods [ulmfit_pseudo]`)?

1. **The language model alone, zero-shot.** After each validation review, a prompt ("This movie
   was"); the score is log P(positive words) - log P(negative words) of the LM's next word. No
   label is read: the accuracy puts the threshold at the median score (IMDb's classes are
   balanced); ROC AUC needs no threshold.
2. **NB-LR, self-trained round after round.** NB-LR fitted on the sample labels the `unsup`
   reviews; the surest `k` (as many per label, `pseudo_labels.most_confident`) join the sample
   (not those of earlier rounds) and NB-LR is fitted again, for each `k` of `--rounds` in turn. Validation accuracy after
   each round, per seed (the curve's samples: `--data.train_size` with `--data.subset_seed`).

The features are binary uni+bigrams occurring in at least two of the `unsup` and training
reviews (text only, no label), so that each round's model sees the n-grams of its pseudo-labelled
reviews; the curve's NB-LR builds them from its training documents alone, so round 0 differs
from it a little. The test set is not read. Last line: one JSON object.

    python benchmarks/few_label_teachers.py --data_dir ../shared/data/imdb \
        --pretrained runs/ulmfit/imdb_cpu_lm/version_0/pretrained
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.metrics import roc_auc_score

from lightning_nlp.cli.baselines import NBLogisticRegression, uni_bigrams
from lightning_nlp.cli.curve import _sample, labelled_sample
from lightning_nlp.cli.pseudo_labels import confidence, most_confident
from lightning_nlp.data.text.tokenize import BOS, get_tokenizer
from lightning_nlp.weights.pretrained import Pretrained, load_pretrained

ADJECTIVES = (
    "great excellent good wonderful amazing brilliant",
    "bad terrible awful horrible boring worst",
)
PROMPTS = {  # prompt -> (positive words, negative words) of the next word
    "This movie was": ADJECTIVES,
    "Overall, this movie is": ADJECTIVES,
    "I give it a": ("10 9 8", "1 2 3"),
}  # fmt: skip


@torch.no_grad()
def zero_shot_scores(lm: Pretrained, docs: list[list[str]], prompt: str, words: tuple[str, str],
                     max_tokens: int = 400, batch: int = 64) -> np.ndarray:  # fmt: skip
    """(N,) log P(positive) - log P(negative) of the forward LM's word after each document (its
    last `max_tokens` tokens; a batch is cut to its shortest, docs sorted by length) and
    `prompt`."""
    ids = [lm.vocab.encode(doc[-max_tokens:]) for doc in docs]
    # the prompt goes on the review: no start-of-document marker between them
    prompt_ids = lm.vocab.encode([t for t in get_tokenizer(lm.tokenizer)(prompt) if t != BOS])
    positive, negative = (torch.tensor(lm.vocab.encode(w.split())) for w in words)
    if lm.vocab.unk_id in [*positive.tolist(), *negative.tolist()]:
        raise SystemExit(f"{lm.folder}: a word of {words} is not in the LM's vocabulary")
    scores = np.zeros(len(docs))
    order = np.argsort([len(i) for i in ids], kind="stable")
    for start in range(0, len(order), batch):
        rows = order[start : start + batch]
        length = min(len(ids[i]) for i in rows)
        tokens = torch.tensor([ids[i][-length:] + prompt_ids for i in rows])  # (B, L + P)
        logp = torch.log_softmax(lm.network(tokens).logits[:, -1].float(), -1)  # (B, V)
        score = logp[:, positive].logsumexp(-1) - logp[:, negative].logsumexp(-1)  # (B,)
        scores[rows] = score.numpy()
    return scores


def self_trained_nb_lr(train: sparse.csr_matrix, y: np.ndarray, unlabeled: sparse.csr_matrix,
                       valid: sparse.csr_matrix, y_valid: np.ndarray, rounds: list[int]) -> list[float]:  # fmt: skip
    """Validation accuracy of NB-LR on the sample, then after each round of self-training."""
    model = NBLogisticRegression().fit(train, y)
    accuracy = [float((model.predict(valid) == y_valid).mean())]
    for docs in rounds:
        scores = model.decision_function(unlabeled)
        predicted = model.predict(unlabeled)
        chosen = most_confident(predicted, confidence(scores), docs, list(model.classes_))
        features = sparse.vstack([train, unlabeled[chosen]]).tocsr()
        model = NBLogisticRegression().fit(features, np.concatenate([y, predicted[chosen]]))
        accuracy.append(float((model.predict(valid) == y_valid).mean()))
    return accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data_dir", required=True)
    parser.add_argument("--pretrained", help="a forward LM folder (no zero-shot rows without)")
    parser.add_argument("--classifier", default="configs/ulmfit/imdb_cpu_clas.yaml")
    parser.add_argument("--labels", type=int, default=100)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 1, 2])
    parser.add_argument("--rounds", type=int, nargs="+", default=[10000, 10000, 20000, 30000])
    args = parser.parse_args()
    start = time.perf_counter()
    full = _sample(args.classifier, ["--data.data_dir", args.data_dir])
    valid = full.split_tokens("valid")
    y_valid = full.split("valid").labels  # (N,) class ids
    result: dict = {"labels": args.labels, "rounds": args.rounds}
    if full.label_names != ["negative", "positive"]:
        raise SystemExit(f"{args.data_dir}: labels {full.label_names}; this study is for IMDb's")
    if args.pretrained:
        lm = load_pretrained(args.pretrained)
        if lm.backwards:
            raise SystemExit(f"{args.pretrained}: a backward LM reads the prompt first")
        result["zero_shot"] = {}
        for prompt, words in PROMPTS.items():
            scores = zero_shot_scores(lm, valid, prompt, words)
            accuracy = float(((scores > np.median(scores)) == (y_valid == 1)).mean())
            auc = float(roc_auc_score(y_valid == 1, scores))
            result["zero_shot"][prompt] = {"acc": accuracy, "auc": auc}
            print(f"zero-shot {prompt!r}: accuracy {100 * accuracy:.1f}%, AUC {auc:.3f}",
                  f"({time.perf_counter() - start:.0f} s)", flush=True)  # fmt: skip
    _, unlabeled = full.unlabeled_tokens()
    features = CountVectorizer(analyzer=uni_bigrams, binary=True, min_df=2)
    features.fit(unlabeled + full.split_tokens("train"))
    unlabeled_x, valid_x = features.transform(unlabeled), features.transform(valid)
    result["nb_lr_rounds"] = {}
    for seed in args.seeds:
        sample = labelled_sample(args.classifier, args.data_dir, args.labels, seed)
        train_x = features.transform(sample.split_tokens("train"))
        accuracy = self_trained_nb_lr(
            train_x, sample.split("train").labels, unlabeled_x, valid_x, y_valid, args.rounds
        )
        result["nb_lr_rounds"][seed] = accuracy
        print(f"seed {seed}: NB-LR then each round,", " ".join(f"{100 * a:.1f}" for a in accuracy),
              f"({time.perf_counter() - start:.0f} s)", flush=True)  # fmt: skip
    result["minutes"] = (time.perf_counter() - start) / 60
    print(json.dumps(result))


if __name__ == "__main__":
    main()
