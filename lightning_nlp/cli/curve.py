"""`lightning-nlp curve`: test accuracy against the number of labelled documents, for the
ULMFiT classifier on a language model, the same classifier from random initialisation, and
the linear baselines (TF-IDF and NB-weighted uni+bigram logistic regressions).

The language model is trained once (`--lm`, `--finetune`, as `lightning-nlp ulmfit` does) or
given (`--pretrained FOLDER`) and reused for every count. For each count and seed, every
method trains on the same stratified, seeded sample of the training split (`--data.train_size`
with `--data.subset_seed`: samples of one seed are nested) and is scored on the whole test
split; the validation split is the same for every count. Counts up to `many_seeds_up_to` run
every seed, larger ones the first only. A small sample gives few steps an epoch, so each
classifier epoch reads at least `min_epoch_docs` documents (`--data.min_epoch_docs`: the
sample repeated): the schedule and gradual unfreezing get the steps they have with more data.

`ulmfit_pseudo` is the ULMFiT classifier self-trained (see `pseudo_labels`): NB-LR fitted on
the same sample labels the corpus's unlabelled documents (IMDb's 50,000 `unsup` reviews), and
the `pseudo_docs` it is most sure of join the sample as training documents. `nb_lr_pseudo` is
the linear baseline given the same: NB-LR refitted on the sample and those pseudo-labelled
documents (self-training without a language model: the baseline for `ulmfit_pseudo`).
`scratch_pseudo` is the classifier from random initialisation given the same documents (the
like-with-like control for `ulmfit_pseudo`: what the language model adds to self-training).
`ulmfit_nb_lr` and `ulmfit_pseudo_nb_lr` average that ULMFiT classifier with NB-LR fitted on
its own documents, the weight chosen on validation (`lightning-nlp ensemble --with_nb_lr`).
`--teacher nb_lr_doc2vec` makes the teacher NB-LR averaged with a logistic regression on
document vectors trained on the unlabelled text (`pseudo_labels.TEACHERS`); the `teacher` row
is the teacher's own test accuracy (with `nb_lr_doc2vec`, a baseline that reads the unlabelled
text too).

Writes `curve.csv`, `curve.json` and `curve.png` (accuracy against labels, log x, mean and
spread per method) into its run folder `runs/curve/version_N`, logs them to W&B (offline
unless credentials are set; `WANDB_MODE=disabled` turns it off), prints the table, and ends
with one JSON line: the accuracies at `summary_count` labels and a beam-search continuation
of `prompt` by the language model.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from jsonargparse import ActionConfigFile, ArgumentParser

from lightning_nlp.cli.recipe import SCRATCH_ARGS, fit_stage, lm_continuation, pretrain_stages
from lightning_nlp.data.classification.datamodule import ClassificationDataModule
from lightning_nlp.data.text.io import atomic_path, atomic_write_text
from lightning_nlp.training.loggers import new_run_dir, wandb_has_credentials

log = logging.getLogger(__name__)
FORWARD = ("ulmfit", "ulmfit_pseudo")  # the ULMFiT classifiers that have a backward twin
BACKWARD = tuple(f"{m}_bwd" for m in FORWARD)  # on the --backward language model
SCRATCH = ("scratch", "scratch_pseudo")  # the classifier from random initialisation
NEURAL_METHODS = ("ulmfit", "ulmfit_pseudo", *SCRATCH, *BACKWARD)
# a ULMFiT classifier averaged with NB-LR fitted on its documents (`ensemble.nb_lr_ensemble`)
WITH_NB_LR = {"ulmfit_nb_lr": "ulmfit", "ulmfit_pseudo_nb_lr": "ulmfit_pseudo"}
SELF_TRAINED = (
    "ulmfit_pseudo", "ulmfit_pseudo_bwd", "scratch_pseudo", "nb_lr_pseudo", "ulmfit_pseudo_nb_lr",
    "teacher",
)  # fmt: skip
BIDIRECTIONAL = (*BACKWARD, *(f"{m}_ensemble" for m in FORWARD))  # rows --backward adds
ALL = "all"


@dataclass
class CurveRow:
    method: str
    budget: str  # the label count asked for, or "all"
    train_docs: int
    seed: int
    acc: float
    val_acc: float | None
    seconds: float
    run_dir: str


def _sample(classifier: str, data_args: list[str]) -> ClassificationDataModule:
    """The classifier config's data module on this count's and seed's sample."""
    from lightning_nlp.cli.commands import _datamodule, _parser

    return _datamodule(_parser("curve"), ["--config", classifier, *data_args])[0]


def labelled_sample(
    classifier: str, data_dir: str, count: int, seed: int
) -> ClassificationDataModule:
    """The classifier config's data module on `data_dir`, its training split the curve's sample
    of `count` labelled documents for `seed` (for studies of one count, as the benchmarks)."""
    args = ["--data.data_dir", data_dir, "--data.train_size", str(count)]
    return _sample(classifier, [*args, "--data.subset_seed", str(seed)])


def _linear_rows(
    methods: list[str], datamodule: ClassificationDataModule, budget: str, seed: int
) -> tuple[int, list[CurveRow]]:
    """The size of the sample that the classifiers of this count and seed see, and the linear
    baselines' rows on it."""
    from lightning_nlp.cli.baselines import evaluate_linear_baseline

    train_docs = datamodule.split_tokens("train")
    if not methods:
        return len(train_docs), []
    train, test = datamodule.split("train"), datamodule.split("test")
    test_docs = datamodule.split_tokens("test")
    rows = []
    for method in methods:
        result = evaluate_linear_baseline(method, train_docs, train.labels, test_docs, test.labels)
        rows.append(
            CurveRow(
                method, budget, len(train_docs), seed, result["acc"], None, result["seconds"], ""
            )  # fmt: skip
        )
    return len(train_docs), rows


def _pseudo_labels(
    sample: ClassificationDataModule, path: Path, docs: int, teacher: str = "nb_lr"
) -> Any:
    """`write_pseudo_labels`, or None (with a warning) where the corpus has no unlabelled text
    at this count (all its training documents labelled, and no unlabelled text of its own)."""
    from lightning_nlp.cli.pseudo_labels import write_pseudo_labels
    from lightning_nlp.data.text.io import CorpusError

    try:
        pseudo = write_pseudo_labels(sample, path, docs, teacher)
    except CorpusError as error:
        log.warning("the self-trained methods are left out at this count: %s", error)
        return None
    log.info("%s: %d pseudo-labelled documents %s, of %d unlabelled", path, pseudo.docs,
             pseudo.per_label, pseudo.unlabeled)  # fmt: skip
    return pseudo


def _self_trained_baseline(
    sample: ClassificationDataModule, pseudo: Any, budget: str, size: int, seed: int
) -> CurveRow:
    """NB-LR refitted on the sample and the pseudo-labelled documents (`nb_lr_pseudo`)."""
    from lightning_nlp.cli.baselines import evaluate_linear_baseline

    names = sample.label_names
    train_labels = [names[i] for i in sample.split("train").labels] + pseudo.labels
    test_labels = [names[i] for i in sample.split("test").labels]
    train_docs = sample.split_tokens("train") + pseudo.tokens
    result = evaluate_linear_baseline(
        "nb_lr", train_docs, np.asarray(train_labels), sample.split_tokens("test"), test_labels
    )
    return CurveRow("nb_lr_pseudo", budget, size, seed, result["acc"], None, result["seconds"], "")


def _teacher_row(
    sample: ClassificationDataModule, pseudo: Any, budget: str, size: int, seed: int
) -> CurveRow:
    """The teacher's own test accuracy (`teacher`), its validation accuracy beside it; its
    seconds are its fitting, its labelling of the unlabelled text and the test."""
    start = time.perf_counter()
    teacher = pseudo.teacher
    predicted, _ = teacher.answer(sample.split_tokens("test"))  # (N,) label names
    truth = np.asarray([sample.label_names[i] for i in sample.split("test").labels])
    acc = float((predicted == truth).mean())
    seconds = teacher.seconds + time.perf_counter() - start
    return CurveRow("teacher", budget, size, seed, acc, pseudo.teacher_valid_acc, seconds, "")


def ensemble_row(forward: CurveRow, backward: CurveRow) -> CurveRow:
    """The forward and backward ULMFiT classifiers' average (Howard & Ruder 2018): their test
    probabilities averaged per document."""
    from lightning_nlp.cli.ensemble import ensemble_test_runs

    acc = ensemble_test_runs([forward.run_dir, backward.run_dir])["ensemble_acc"]
    return CurveRow(
        f"{forward.method}_ensemble", forward.budget, forward.train_docs, forward.seed, acc,
        None, forward.seconds + backward.seconds, forward.run_dir,
    )  # fmt: skip


def with_nb_lr_row(method: str, classifier: CurveRow) -> CurveRow:
    """The ULMFiT classifier's run averaged with NB-LR fitted on the same documents, the
    classifier's weight chosen on validation (`ensemble.nb_lr_ensemble`; two classes)."""
    from lightning_nlp.cli.ensemble import nb_lr_ensemble

    result = nb_lr_ensemble(classifier.run_dir)
    return CurveRow(
        method, classifier.budget, classifier.train_docs, classifier.seed,
        result["test"]["classifier_nb_lr"], result["val"]["classifier_nb_lr"],
        classifier.seconds + result["seconds"], classifier.run_dir,
    )  # fmt: skip


def _data_options(args: list[str]) -> list[str]:
    """The `--data.*` options of a command line (`--name value` or `--name=value`)."""
    kept, i = [], 0
    while i < len(args):
        takes_value = "=" not in args[i] and i + 1 < len(args) and not args[i + 1].startswith("--")
        if args[i].startswith("--data."):
            kept += args[i : i + 1 + takes_value]
        i += 1 + takes_value
    return kept


def summarise(rows: list[CurveRow]) -> list[dict[str, Any]]:
    """Mean, standard deviation and number of seeds per method and count."""
    groups: dict[tuple[str, str], list[CurveRow]] = {}
    for row in rows:
        groups.setdefault((row.method, row.budget), []).append(row)
    summary = []
    for (method, budget), members in groups.items():
        accs = [r.acc for r in members]
        summary.append(
            {
                "method": method,
                "budget": budget,
                "train_docs": members[0].train_docs,
                "mean": statistics.fmean(accs),
                "sd": statistics.stdev(accs) if len(accs) > 1 else 0.0,
                "seeds": len(accs),
                "minutes": sum(r.seconds for r in members) / 60,
            }
        )
    return summary


def format_table(summary: list[dict[str, Any]]) -> str:
    budgets = list(dict.fromkeys(s["budget"] for s in summary))
    methods = list(dict.fromkeys(s["method"] for s in summary))
    cell = {(s["method"], s["budget"]): s for s in summary}
    width = max([16, *map(len, methods)]) + 2  # a space between columns whatever the names
    lines = [f"{'labels':<10}" + "".join(f"{m:>{width}}" for m in methods)]
    for budget in budgets:
        parts = []
        for method in methods:
            s = cell.get((method, budget))
            text = "-" if s is None else f"{100 * s['mean']:.1f}"
            if s is not None and s["seeds"] > 1:
                text += f" ± {100 * s['sd']:.1f}"
            parts.append(f"{text:>{width}}")
        lines.append(f"{budget:<10}" + "".join(parts))
    return "\n".join(lines)


def plot_curve(summary: list[dict[str, Any]], path: Path) -> None:
    """Accuracy against labelled documents (log x): mean per method, shaded +-1 sd."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.4, 4.2))
    for method in dict.fromkeys(s["method"] for s in summary):
        points = sorted(
            (s for s in summary if s["method"] == method), key=lambda s: s["train_docs"]
        )
        x = np.array([p["train_docs"] for p in points])
        mean = np.array([100 * p["mean"] for p in points])
        sd = np.array([100 * p["sd"] for p in points])
        axes.plot(x, mean, marker="o", label=method)
        axes.fill_between(x, mean - sd, mean + sd, alpha=0.2)
    axes.set_xscale("log")
    ticks = sorted({s["train_docs"] for s in summary})
    axes.set_xticks(ticks, [f"{t:,}" for t in ticks])
    axes.minorticks_off()
    axes.set_xlabel("labelled training documents")
    axes.set_ylabel("test accuracy (%)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=120)
    plt.close(figure)


def _log_to_wandb(folder: Path, rows: list[CurveRow], png: Path) -> None:
    """The table and the plot as one W&B run (offline unless credentials are set)."""
    mode = os.environ.get("WANDB_MODE")
    if mode == "disabled":
        return
    import wandb

    if mode is None:
        mode = "online" if wandb_has_credentials() else "offline"
    run = wandb.init(
        project="lightning-nlp",
        job_type="learning-curve",
        dir=str(folder),
        mode=mode,
        settings=wandb.Settings(silent=True),
    )
    columns = list(asdict(rows[0]))
    table = wandb.Table(columns=columns, data=[list(asdict(r).values()) for r in rows])
    run.log({"curve/table": table, "curve/plot": wandb.Image(str(png))})
    run.finish()


def learning_curve(
    classifier: str,
    pretrained: str | None = None,
    backward: str | None = None,
    lm: str | None = None,
    finetune: str | None = None,
    lm_args: str = "",
    finetune_args: str = "",
    classifier_args: str = "",
    scratch_args: str = SCRATCH_ARGS,
    counts: list[int | None] = [100, 500, 1000, 5000, None],  # noqa: B006 (jsonargparse default)
    seeds: list[int] = [42, 1, 2],  # noqa: B006
    many_seeds_up_to: int = 1000,
    methods: list[str] = ["ulmfit", "scratch", "tfidf_lr", "nb_lr"],  # noqa: B006
    min_epoch_docs: int = 2000,
    pseudo_docs: int = 10000,
    teacher: str = "nb_lr",
    prompt: str = "",
    output_dir: str = "runs/curve",
) -> dict[str, Any]:
    """Runs the curve (see the module docstring) and returns its rows and summary.

    Args:
        classifier: the classifier config (its data section is the labelled corpus).
        pretrained: a language model's folder; or `lm` / `finetune` configs to train it here.
        backward: a backward language model's folder (fitted with `--data.backwards true`):
            adds the backward twin of each ULMFiT classifier asked for (`ulmfit_bwd`,
            `ulmfit_pseudo_bwd`) and the average of each pair's probabilities
            (`ulmfit_ensemble`, `ulmfit_pseudo_ensemble`), as the paper reports.
        lm_args, finetune_args, classifier_args: extra command-line arguments of each stage
            (e.g. "--data.data_dir ../shared/data/imdb").
        scratch_args: the scratch classifier's own arguments (one learning rate, no unfreezing).
        counts: labelled training documents per run; null is the whole training split.
        seeds: seeds of the samples and runs; counts above `many_seeds_up_to` use the first.
        methods: among ulmfit, scratch, ulmfit_pseudo, scratch_pseudo, nb_lr_pseudo, teacher,
            tfidf_lr and nb_lr; with
            `backward`, each of ulmfit and ulmfit_pseudo also runs on the backward LM
            (`ulmfit_bwd`, `ulmfit_pseudo_bwd`, which may also be asked for alone) and the
            pair's average is a row (`ulmfit_ensemble`, `ulmfit_pseudo_ensemble`).
            `ulmfit_nb_lr` (`ulmfit_pseudo_nb_lr`) is that classifier averaged with NB-LR
            fitted on its documents, its weight chosen on validation (two classes only); the
            classifier runs, and has its own row, even if not asked for.
        min_epoch_docs: documents a small sample's epoch is stretched to (see above).
        pseudo_docs: unlabelled documents that the self-trained methods add, pseudo-labelled.
        teacher: what labels them, one of `pseudo_labels.TEACHERS` ("nb_lr", "nb_lr_doc2vec").
        prompt: text for the language model's beam-search continuation.
        output_dir: where the curve's run folder goes.
    """
    from lightning_nlp.cli.baselines import LINEAR_METHODS

    unknown = set(methods) - {*NEURAL_METHODS, *LINEAR_METHODS, *SELF_TRAINED, *WITH_NB_LR}
    if unknown:
        raise ValueError(f"unknown methods {sorted(unknown)}: choose from ulmfit, scratch, "
                         "ulmfit_pseudo, scratch_pseudo, nb_lr_pseudo, teacher, ulmfit_bwd, "
                         "ulmfit_pseudo_bwd, "
                         f"ulmfit_nb_lr, ulmfit_pseudo_nb_lr, {', '.join(LINEAR_METHODS)}")  # fmt: skip
    from lightning_nlp.cli.pseudo_labels import TEACHERS

    if teacher not in TEACHERS:  # before any language model is trained
        raise ValueError(f"unknown teacher {teacher!r}; choose from {TEACHERS}")
    if backward is None and set(methods) & set(BACKWARD):
        raise ValueError("ulmfit_bwd and ulmfit_pseudo_bwd need --backward (a backward LM)")
    if backward is not None and not set(methods) & {*FORWARD, *BACKWARD, *WITH_NB_LR}:
        raise ValueError("--backward is for the ULMFiT classifiers: add ulmfit or ulmfit_pseudo "
                         "(or their _bwd twins) to --methods")  # fmt: skip
    start = time.perf_counter()
    stages, folder = pretrain_stages(lm, finetune, lm_args, finetune_args, pretrained)
    if folder is None and set(methods) & {*NEURAL_METHODS, *WITH_NB_LR}:
        raise ValueError("give --pretrained, --lm or --finetune: the ULMFiT classifier needs a "
                         "language model")  # fmt: skip
    output = new_run_dir(output_dir)
    extra = shlex.split(classifier_args)
    rows: list[CurveRow] = []
    for count in counts:
        budget = ALL if count is None else str(count)
        run_seeds = seeds if count is not None and count <= many_seeds_up_to else seeds[:1]
        for seed in run_seeds:
            data = [
                "--data.subset_seed",
                str(seed),
                "--data.train_size",
                "null" if count is None else str(count),
            ]
            linear = [m for m in methods if m in LINEAR_METHODS]
            pseudo = None
            self_trained = set(methods) & set(SELF_TRAINED)
            averaged = set(methods) & set(WITH_NB_LR)
            if linear or count is None or self_trained or averaged:
                sample = _sample(classifier, [*data, *_data_options(extra)])
                if averaged and len(sample.label_names) != 2:
                    raise ValueError(f"{sorted(averaged)} average two classes' probabilities; "
                                     f"this corpus has {len(sample.label_names)}")  # fmt: skip
                size, linear_rows = _linear_rows(linear, sample, budget, seed)
                rows += linear_rows
                if self_trained:
                    pseudo = _pseudo_labels(sample, output / f"pseudo_labels_{budget}_{seed}.jsonl",
                                            pseudo_docs, teacher)  # fmt: skip
                if pseudo is not None and "nb_lr_pseudo" in methods:
                    rows.append(_self_trained_baseline(sample, pseudo, budget, size, seed))
                if pseudo is not None and "teacher" in methods:
                    rows.append(_teacher_row(sample, pseudo, budget, size, seed))
            else:  # the sample's size is known without reading it
                size = count
            common = [*data, "--seed_everything", str(seed)]
            common += ["--data.min_epoch_docs", str(min_epoch_docs)]
            runs = [m for m in methods if m in NEURAL_METHODS]
            runs += [
                WITH_NB_LR[m] for m in methods if m in WITH_NB_LR and WITH_NB_LR[m] not in runs
            ]
            for method in FORWARD if backward is not None else ():
                if method in runs and f"{method}_bwd" not in runs:
                    runs.insert(runs.index(method) + 1, f"{method}_bwd")
            if pseudo is None:  # no unlabelled text at this count
                runs = [m for m in runs if m not in SELF_TRAINED]
            done: dict[str, CurveRow] = {}
            for method in runs:
                lm_folder = backward if method in BACKWARD else folder
                args = [*common] if lm_folder is None else [*common, "--data.vocab_path"]
                args += [] if lm_folder is None else [str(Path(lm_folder) / "vocab.json")]
                pretrained = "null" if method in SCRATCH else str(lm_folder)
                args += ["--model.pretrained", pretrained, *extra]
                args += shlex.split(scratch_args) if method in SCRATCH else []
                args += ["--data.backwards", "true"] if method in BACKWARD else []
                if method in SELF_TRAINED:
                    args += ["--data.pseudo_labels", str(pseudo.path)]
                stage = fit_stage(f"{method}_{budget}_{seed}", classifier, args, test=True)
                done[method] = CurveRow(
                    method, budget, size, seed, stage.metrics["test/acc"],
                    stage.metrics.get("val/acc"), stage.seconds, stage.run_dir,
                )  # fmt: skip
                rows.append(done[method])
            for method in FORWARD:
                if method in done and f"{method}_bwd" in done:
                    rows.append(ensemble_row(done[method], done[f"{method}_bwd"]))
            rows += [
                with_nb_lr_row(m, done[b])
                for m, b in WITH_NB_LR.items()
                if m in methods and b in done
            ]
            _write(output, rows)  # as it goes: an interrupted curve keeps its finished rows
    summary = summarise(rows)
    png = output / "curve.png"
    plot_curve(summary, png)
    result = {
        "run_dir": str(output),
        "language_model": None if folder is None else str(folder),
        "stages": [asdict(s) for s in stages],
        "rows": [asdict(r) for r in rows],
        "summary": summary,
        "minutes": (time.perf_counter() - start) / 60,
        "continuation": lm_continuation(folder, prompt) if folder is not None else "",
    }
    atomic_write_text(output / "curve.json", json.dumps(result, indent=2))
    try:  # the results are on disk: W&B failing (a timeout on a busy machine) loses nothing
        _log_to_wandb(output, rows, png)
    except Exception as error:  # noqa: BLE001 (any W&B failure: warn, keep the curve)
        log.warning("W&B logging failed (%s); the curve is in %s", error, output)
    return result


def _write(folder: Path, rows: list[CurveRow]) -> None:
    header = ",".join(asdict(rows[0]))
    lines = [",".join(str(v) for v in asdict(r).values()) for r in rows]
    atomic_write_text(folder / "curve.csv", "\n".join([header, *lines]) + "\n")


def summary_line(result: dict[str, Any], count: int | None) -> dict[str, Any]:
    """The accuracies at `count` labels (mean over seeds), as the demo's last line gives them.

    A curve run for other counts (`--counts "[1000]"` with the config's `summary_count: 100`)
    reports its smallest count instead of a line of nulls.
    """
    budget = ALL if count is None else str(count)
    if result["summary"] and budget not in {s["budget"] for s in result["summary"]}:
        budget = min(result["summary"], key=lambda s: s["train_docs"])["budget"]
    means = {s["method"]: s["mean"] for s in result["summary"] if s["budget"] == budget}
    from lightning_nlp.cli.baselines import LINEAR_METHODS

    linear = {m: v for m, v in means.items() if m in LINEAR_METHODS}
    best = max(linear, key=linear.get) if linear else None
    named = ("ulmfit_pseudo", "scratch_pseudo", *BIDIRECTIONAL, *WITH_NB_LR)
    both = {m: means[m] for m in named if m in means}
    return {
        "labels": budget,
        "pretrained_acc": means.get("ulmfit"),
        "scratch_acc": means.get("scratch"),
        "baseline_acc": None if best is None else linear[best],
        "baseline": best,
        **{f"{m}_acc": v for m, v in {**linear, **both}.items()},
        "continuation": result["continuation"],
        "curve_png": str(Path(result["run_dir"]) / "curve.png"),
        "minutes": round(result["minutes"], 2),
    }


def curve_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="lightning-nlp curve", description=__doc__)
    parser.add_argument("--config", action=ActionConfigFile)
    parser.add_function_arguments(learning_curve, as_positional=False)
    parser.add_argument(
        "--summary_count",
        type=int | None,
        default=100,
        help="the labels of the last line (the smallest count run when this one was not)",
    )
    return parser


def curve_cli(argv: list[str]) -> dict[str, Any]:
    config = curve_parser().parse_args(argv).as_dict()
    config.pop("config", None)
    summary_count = config.pop("summary_count")
    result = learning_curve(**config)
    print(format_table(result["summary"]))  # noqa: T201
    print(f"curve: {result['run_dir']}/curve.png")  # noqa: T201
    line = summary_line(result, summary_count)
    print(json.dumps(line))  # noqa: T201
    return line
