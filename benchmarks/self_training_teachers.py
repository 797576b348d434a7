"""A second round of self-training on IMDb: does the self-trained ULMFiT classifier (alone, or
averaged with NB-LR) make a better teacher than NB-LR?

`lightning-nlp curve --methods [ulmfit_pseudo]` trains round one: NB-LR, fitted on the labelled
sample, pseudo-labels the `unsup` reviews and the classifier trains on the sample and the
`--pseudo_docs` NB-LR is surest of. Given that round's run folder (`--student`; its best
checkpoint is the teacher, its `config.yaml` gives the sample, seed and round-one pseudo-labels),
this script
1. scores three teachers on the validation reviews, NB-LR, the student and the average of their
   probabilities (accuracy, and accuracy on the tenth, fifth and two fifths each is surest of);
2. labels the unlabelled reviews with each of: the student; the student on the reviews it did
   not train on (round one's pseudo-labelled reviews left out: on those its sureness is
   memory); the average. It keeps the surest `--pseudo_docs` of each, as many per label, as
   `pseudo_labels.most_confident` does, and counts how many of them round one already had;
3. trains a fresh classifier from the same language model on the sample and each set, with
   round one's command-line settings (`--classifier_args`, as the curve was given them), and
   reports its best validation accuracy beside round one's (the test set is not read).
Pseudo-label files go to `--output`. Last line: one JSON object.

    python benchmarks/self_training_teachers.py --student runs/ulmfit/imdb_cpu_clas/version_0 \
        --pretrained runs/ulmfit/imdb_cpu_lm/version_0/pretrained --classifier_args "$GU"
    # $GU: docs/results.md, "IMDb on a 2-core CPU"
"""

from __future__ import annotations

import argparse
import json
import shlex
import time
from pathlib import Path

import numpy as np
import yaml

from lightning_nlp.cli import run_cli
from lightning_nlp.cli.baselines import fit_linear_baseline, positive_probability
from lightning_nlp.cli.curve import _data_options, _sample
from lightning_nlp.cli.pseudo_labels import most_confident
from lightning_nlp.cli.recipe import _finish_wandb_run
from lightning_nlp.data.text.io import atomic_write_text
from lightning_nlp.inference.predictor import load

FRACTIONS = (0.1, 0.2, 0.4)


def teacher_scores(p: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Accuracy of (N,) second-class probabilities `p` against (N,) class ids `y`, overall and
    on the surest tenth, fifth and two fifths."""
    right = (p > 0.5) == y
    order = np.argsort(-np.abs(p - 0.5), kind="stable")
    scores = {"acc": float(right.mean())}
    scores |= {
        f"top{int(100 * f)}": float(right[order[: int(f * len(p))]].mean()) for f in FRACTIONS
    }
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--student", required=True, help="round one's classifier run folder")
    parser.add_argument("--pretrained", required=True, help="the language model's folder")
    parser.add_argument("--classifier", default="configs/ulmfit/imdb_cpu_clas.yaml")
    parser.add_argument("--classifier_args", required=True, help="round one's, as the curve's")
    parser.add_argument("--pseudo_docs", type=int, default=10000)
    parser.add_argument("--output", default="runs/self_training_teachers")
    args = parser.parse_args()
    extra = shlex.split(args.classifier_args)
    round_one = yaml.safe_load((Path(args.student) / "config.yaml").read_text())
    options = round_one["data"]["init_args"]
    seed, labels = round_one["seed_everything"], options["train_size"]
    if not options.get("pseudo_labels"):
        raise SystemExit(f"{args.student}: not a self-trained run (no data.pseudo_labels)")
    data = ["--data.subset_seed", str(options["subset_seed"]), "--data.train_size", str(labels)]
    data += ["--data.min_epoch_docs", str(options["min_epoch_docs"])]
    (best_one,) = (Path(args.student) / "checkpoints").glob("best-*.ckpt")
    round_one_acc = float(best_one.stem.rsplit("acc", 1)[1])  # best-epoch{E}-acc{A}
    seen = {json.loads(line)["text"] for line in Path(options["pseudo_labels"]).open()}
    sample = _sample(args.classifier, [*data, *_data_options(extra)])
    names = sample.label_names
    if len(names) != 2:
        raise SystemExit(f"{args.classifier}: this study is for two labels, not {names}")
    train_labels = np.asarray([names[i] for i in sample.split("train").labels])
    nb_lr = fit_linear_baseline("nb_lr", sample.split_tokens("train"), train_labels)
    student = load(best_one)
    if student.labels != names:
        raise SystemExit(f"{args.student}: labels {student.labels}, the sample's are {names}")

    def probabilities(texts: list[str], tokens: list[list[str]]) -> dict[str, np.ndarray]:
        nb = positive_probability(nb_lr, tokens, names[1])  # (N,)
        st = student.predict_probs(texts).float().numpy()[:, 1]  # (N,)
        return {"nb_lr": nb, "student": st, "average": (nb + st) / 2}

    valid = sample.texts("valid")
    valid_tokens = sample.split_tokens("valid")
    if len(valid_tokens) != len(valid):
        raise SystemExit("an empty validation review: the tokens no longer align with the texts")
    y = np.asarray([names.index(label) for label in valid.labels])
    teachers = {
        k: teacher_scores(p, y) for k, p in probabilities(valid.texts, valid_tokens).items()
    }
    for name, scores in teachers.items():
        print(name, " ".join(f"{k} {100 * v:.1f}" for k, v in scores.items()), flush=True)

    texts, tokens = sample.unlabeled_tokens()
    unlabeled = probabilities(texts, tokens)
    unseen = np.asarray([text not in seen for text in texts])
    folder = Path(args.output) / f"{labels}_{seed}"
    rounds = {}
    for name, teacher, allowed in (
        ("student_unseen", "student", unseen),
        ("average", "average", np.ones_like(unseen)),
        ("student", "student", np.ones_like(unseen)),
    ):
        predicted = np.asarray(names)[(unlabeled[teacher] > 0.5).astype(int)]
        sure = np.where(allowed, np.abs(unlabeled[teacher] - 0.5), -1.0)  # left out: never chosen
        chosen = most_confident(predicted, sure, args.pseudo_docs, names)
        path = folder / f"{name}.jsonl"
        lines = [json.dumps({"text": texts[i], "label": str(predicted[i])}) for i in chosen]
        atomic_write_text(path, "\n".join(lines) + "\n")
        start = time.perf_counter()
        cli = run_cli(
            ["--config", args.classifier, *data, "--seed_everything", str(seed),
             "--data.vocab_path", str(Path(args.pretrained) / "vocab.json"),
             "--model.pretrained", args.pretrained, *extra, "--data.pseudo_labels", str(path)],
            run=False,
        )  # fmt: skip
        cli.before_fit()
        cli.trainer.fit(cli.model, datamodule=cli.datamodule)
        best = cli.trainer.checkpoint_callback.best_model_score
        _finish_wandb_run()
        rounds[name] = {
            "val_acc": float(best),
            "run_dir": str(cli.run_dir),
            "mean_words": float(np.mean([len(texts[i].split()) for i in chosen])),
            "in_round_one": int(sum(texts[i] in seen for i in chosen)),
            "pseudo_labels": str(path),
            "minutes": (time.perf_counter() - start) / 60,
        }
        print(name, "teacher, round two:", rounds[name], flush=True)
    words_one = np.mean([len(text.split()) for text in seen])
    print(json.dumps({"seed": seed, "labels": labels, "teachers": teachers,
                      "round_one": {"val_acc": round_one_acc, "mean_words": float(words_one)},
                      "round_two": rounds}))  # fmt: skip


if __name__ == "__main__":
    main()
