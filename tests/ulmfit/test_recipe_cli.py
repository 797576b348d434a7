"""The three ULMFiT stages through the CLI on tiny data."""

import json
from pathlib import Path

import pytest
import torch
import yaml

from lightning_nlp.cli import main
from lightning_nlp.cli.generate import generate
from lightning_nlp.tasks.text_classifier import TextClassifierTask
from lightning_nlp.weights.checkpoints import read_checkpoint
from lightning_nlp.weights.pretrained import load_pretrained

ROOT = Path(__file__).resolve().parents[2]


def _tiny(tmp_path: Path, name: str, classifier: bool = False) -> str:
    args = [
        "--data.num_docs 600",
        f"--data.cache_dir {tmp_path / 'cache'}",
        "--trainer.max_epochs 2" if classifier else "--trainer.max_epochs 1",
        "--trainer.limit_train_batches 4",
        "--trainer.limit_val_batches 2",
        "--trainer.logger false",
        "--trainer.enable_progress_bar false",
        f"--trainer.default_root_dir {tmp_path / name}",
        "--model.network.embed_dim 16",
        "--model.network.hidden_dim 24",
    ]
    if classifier:
        args += ["--trainer.limit_test_batches 2", "--data.train_size 60"]
    return " ".join(args)


@pytest.mark.integration
def test_three_stages_then_the_saved_classifier_predicts_as_its_checkpoint(tmp_path, capsys):
    main(
        [
            "ulmfit",
            "--lm", str(ROOT / "configs/ulmfit/embedded_lm.yaml"),
            "--finetune", str(ROOT / "configs/ulmfit/embedded_finetune.yaml"),
            "--classifier", str(ROOT / "configs/ulmfit/embedded_clas.yaml"),
            "--lm_args", _tiny(tmp_path, "lm"),
            "--finetune_args", _tiny(tmp_path, "finetune"),
            "--classifier_args", _tiny(tmp_path, "clas", classifier=True),
            "--prompt", "the food was",
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "scratch_classifier" in out and "language-model sample: the food was" in out
    result = json.loads((tmp_path / "clas" / "version_0" / "recipe.json").read_text())
    names = [stage["name"] for stage in result["stages"]]
    assert names == ["lm", "finetune", "classifier", "scratch_classifier"]
    assert all("test/acc" in s["metrics"] for s in result["stages"][2:])
    starts = [
        _config(s["run_dir"])["model"]["init_args"].get("pretrained") for s in result["stages"]
    ]
    finetune_folder = str(Path(result["stages"][1]["run_dir"]) / "pretrained")
    assert starts == [
        None,
        str(Path(result["stages"][0]["run_dir"]) / "pretrained"),
        finetune_folder,
        None,
    ]
    finetuned = load_pretrained(tmp_path / "finetune" / "version_0" / "pretrained")
    for beam_size in (1, 3):  # generation works with AWD-LSTM language models
        texts = generate(str(tmp_path / "finetune"), "the food was", 5, beam_size=beam_size)
        assert texts[0].startswith("the food was") and len(texts[0].split()) > 3
    classifier_run = tmp_path / "clas" / "version_0"
    assert json.loads((classifier_run / "vocab.json").read_text())["itos"] == finetuned.vocab.itos

    folder = load_pretrained(classifier_run / "pretrained")
    checkpoint = read_checkpoint(classifier_run / "checkpoints" / "last.ckpt")
    hparams = {k: v for k, v in checkpoint["hyper_parameters"].items() if not k.startswith("_")}
    task = TextClassifierTask(**hparams)
    task.load_state_dict(checkpoint["state_dict"])
    task.eval()
    tokens = torch.randint(4, len(folder.vocab), (3, 50))
    lengths = torch.tensor([50, 31, 7])
    with torch.no_grad():
        assert torch.equal(folder.network(tokens, lengths), task(tokens, lengths))
    assert folder.labels == ["negative", "positive"]

    # a later run starts from the fine-tuned folder without training the language models again
    main(
        [
            "ulmfit",
            "--pretrained", finetune_folder,
            "--classifier", str(ROOT / "configs/ulmfit/embedded_clas.yaml"),
            "--classifier_args", _tiny(tmp_path, "clas_again", classifier=True),
            "--scratch", "false",
        ]
    )  # fmt: skip
    again = json.loads((tmp_path / "clas_again" / "version_0" / "recipe.json").read_text())
    assert again["started_from"] == finetune_folder
    assert [stage["name"] for stage in again["stages"]] == ["classifier"]
    assert (
        _config(again["stages"][0]["run_dir"])["model"]["init_args"]["pretrained"]
        == finetune_folder
    )


def _config(run_dir: str) -> dict:
    return yaml.safe_load((Path(run_dir) / "config.yaml").read_text())


@pytest.mark.integration
def test_learning_curve_writes_its_table_and_plot_and_ends_with_one_json_line(tmp_path, capsys):
    clas = _tiny(tmp_path, "clas", classifier=True).replace("--data.train_size 60", "")
    main(
        [
            "curve",
            "--lm", str(ROOT / "configs/ulmfit/embedded_lm.yaml"),
            "--lm_args", _tiny(tmp_path, "lm"),
            "--classifier", str(ROOT / "configs/ulmfit/embedded_clas.yaml"),
            "--classifier_args", clas,
            "--counts", "[20, null]",
            "--seeds", "[1, 2]",
            "--many_seeds_up_to", "20",
            "--min_epoch_docs", "40",
            "--summary_count", "20",
            "--output_dir", str(tmp_path / "curve"),
            "--prompt", "the food was",
        ]
    )  # fmt: skip
    lines = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(lines[-1])
    for key in ("pretrained_acc", "scratch_acc", "baseline_acc", "nb_lr_acc", "tfidf_lr_acc"):
        assert 0.0 <= summary[key] <= 1.0, key
    assert summary["continuation"].startswith("the food was")
    run = tmp_path / "curve" / "version_0"
    rows = (run / "curve.csv").read_text().splitlines()
    assert rows[0].startswith("method,budget,train_docs,seed,acc")
    cells = [row.split(",") for row in rows[1:]]
    # 20 labels: two seeds, four methods each; all labels: the first seed only
    assert sorted((c[0], c[1], c[3]) for c in cells) == sorted(
        [(m, "20", s) for m in ("ulmfit", "scratch", "tfidf_lr", "nb_lr") for s in ("1", "2")]
        + [(m, "all", "1") for m in ("ulmfit", "scratch", "tfidf_lr", "nb_lr")]
    )
    assert {c[2] for c in cells if c[1] == "20"} == {"20"}
    whole = {c[2] for c in cells if c[1] == "all"}  # every method on the whole training split
    assert len(whole) == 1 and int(whole.pop()) > 20
    assert (run / "curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = json.loads((run / "curve.json").read_text())
    assert {s["budget"]: s["seeds"] for s in result["summary"] if s["method"] == "ulmfit"} == {
        "20": 2,
        "all": 1,
    }
    # the small budget's classifier epochs read the 20 documents twice (40 a epoch)
    stretched = [r for r in result["rows"] if r["budget"] == "20" and r["method"] == "ulmfit"]
    assert _config(stretched[0]["run_dir"])["data"]["init_args"]["min_epoch_docs"] == 40


@pytest.mark.parametrize("config", sorted((ROOT / "configs").rglob("*curve.yaml")), ids=str)
def test_curve_configs_parse(config, monkeypatch):
    from lightning_nlp.cli.curve import curve_parser

    monkeypatch.chdir(ROOT)
    parsed = curve_parser().parse_args(["--config", str(config)])
    assert Path(parsed.classifier).is_file()
    for stage in (parsed.lm, parsed.finetune):
        assert stage is None or Path(stage).is_file()
    assert parsed.summary_count in parsed.counts


@pytest.mark.integration
def test_curve_adds_the_backward_classifier_their_average_and_the_self_trained_one(
    tmp_path, capsys
):
    import numpy as np

    lm_config = str(ROOT / "configs/ulmfit/embedded_lm.yaml")
    main(["fit", "--config", lm_config, *_tiny(tmp_path, "fwd").split()])
    main(
        ["fit", "--config", lm_config, *_tiny(tmp_path, "bwd").split(), "--data.backwards", "true"]
    )
    clas = _tiny(tmp_path, "clas", classifier=True).replace("--data.train_size 60", "")
    main(
        [
            "curve",
            "--pretrained", str(tmp_path / "fwd/version_0/pretrained"),
            "--backward", str(tmp_path / "bwd/version_0/pretrained"),
            "--classifier", str(ROOT / "configs/ulmfit/embedded_clas.yaml"),
            "--classifier_args", clas,
            "--methods", "[ulmfit, nb_lr, ulmfit_pseudo_nb_lr, nb_lr_pseudo, scratch_pseudo]",
            "--counts", "[20]",
            "--seeds", "[1]",
            "--min_epoch_docs", "40",
            "--pseudo_docs", "50",
            "--summary_count", "20",
            "--output_dir", str(tmp_path / "curve"),
        ]
    )  # fmt: skip
    result = json.loads((tmp_path / "curve/version_0/curve.json").read_text())
    rows = {r["method"]: r for r in result["rows"]}
    assert sorted(rows) == [
        "nb_lr",
        "nb_lr_pseudo",
        "scratch_pseudo",
        "ulmfit",
        "ulmfit_bwd",
        "ulmfit_ensemble",
        "ulmfit_pseudo",
        "ulmfit_pseudo_bwd",
        "ulmfit_pseudo_ensemble",
        "ulmfit_pseudo_nb_lr",
    ]  # ulmfit_pseudo: implied by ulmfit_pseudo_nb_lr
    assert 0.0 <= rows["nb_lr_pseudo"]["acc"] <= 1.0 and rows["nb_lr_pseudo"]["train_docs"] == 20
    for method in ("ulmfit", "ulmfit_bwd", "ulmfit_pseudo", "ulmfit_pseudo_bwd"):
        # the validation accuracy of a row is that of the checkpoint tested, the best one
        (best,) = (Path(rows[method]["run_dir"]) / "checkpoints").glob("best-*.ckpt")
        state = read_checkpoint(best)["callbacks"]
        (score,) = [s["best_model_score"] for k, s in state.items() if "'val/acc'" in k]
        assert rows[method]["val_acc"] == pytest.approx(float(score))
    # self-training: the 20 labelled reviews and 50 the NB-LR teacher labelled, out of the
    # training reviews the sample leaves out
    pseudo = _config(rows["ulmfit_pseudo"]["run_dir"])["data"]["init_args"]["pseudo_labels"]
    assert pseudo == str(tmp_path / "curve/version_0/pseudo_labels_20_1.jsonl")
    assert len(Path(pseudo).read_text().splitlines()) == 50
    assert _config(rows["ulmfit"]["run_dir"])["data"]["init_args"]["pseudo_labels"] is None
    # its control from random initialisation reads the same documents, with no language model
    scratch = _config(rows["scratch_pseudo"]["run_dir"])
    assert scratch["data"]["init_args"]["pseudo_labels"] == pseudo
    assert scratch["model"]["init_args"]["pretrained"] is None
    assert _config(rows["ulmfit_pseudo"]["run_dir"])["model"]["init_args"]["pretrained"] == str(
        tmp_path / "fwd/version_0/pretrained"
    )
    assert _config(rows["ulmfit_bwd"]["run_dir"])["data"]["init_args"]["backwards"] is True
    assert _config(rows["ulmfit"]["run_dir"])["data"]["init_args"]["backwards"] is False
    fwd, bwd = (np.load(Path(rows[m]["run_dir"]) / "test_probabilities.npz") for m in
                ("ulmfit", "ulmfit_bwd"))  # fmt: skip
    assert np.array_equal(fwd["labels"], bwd["labels"])
    assert np.array_equal(fwd["index"], np.arange(len(fwd["index"])))  # the split's order
    for table, method in ((fwd, "ulmfit"), (bwd, "ulmfit_bwd")):  # the files hold the test
        assert (table["probs"].argmax(-1) == table["labels"]).mean() == pytest.approx(
            rows[method]["acc"]
        )
    average = ((fwd["probs"] + bwd["probs"]) / 2).argmax(-1)
    assert rows["ulmfit_ensemble"]["acc"] == pytest.approx((average == fwd["labels"]).mean())
    # the self-trained pair: the backward twin reads the same pseudo-labels right to left
    pseudo_bwd = _config(rows["ulmfit_pseudo_bwd"]["run_dir"])["data"]["init_args"]
    assert pseudo_bwd["pseudo_labels"] == pseudo and pseudo_bwd["backwards"] is True
    # `ensemble --runs` gives the same average from the finished runs' folders
    pair = [rows["ulmfit_pseudo"]["run_dir"], rows["ulmfit_pseudo_bwd"]["run_dir"]]
    capsys.readouterr()
    main(["ensemble", "--runs", f"[{pair[0]},{pair[1]}]"])
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["ensemble_acc"] == pytest.approx(rows["ulmfit_pseudo_ensemble"]["acc"])
    assert line["runs"][pair[1]] == pytest.approx(rows["ulmfit_pseudo_bwd"]["acc"])
    # averaged with NB-LR: NB-LR refitted from each run's config is the curve's own row (the
    # same documents, the same test documents in the same order), the classifier its run's
    runs = f"[{rows['ulmfit']['run_dir']},{pair[0]}]"
    main(["ensemble", "--with_nb_lr", runs])
    plain, pseudo_nb = map(json.loads, capsys.readouterr().out.strip().splitlines()[-2:])
    for result, classifier, nb_lr in ((plain, "ulmfit", "nb_lr"),
                                      (pseudo_nb, "ulmfit_pseudo", "nb_lr_pseudo")):  # fmt: skip
        assert result["test"]["classifier"] == pytest.approx(rows[classifier]["acc"])
        assert result["test"]["nb_lr"] == pytest.approx(rows[nb_lr]["acc"])
    assert (plain["train_docs"], pseudo_nb["train_docs"]) == (20, 70)
    assert rows["ulmfit_pseudo_nb_lr"]["acc"] == pytest.approx(
        pseudo_nb["test"]["classifier_nb_lr"]
    )
    assert rows["ulmfit_pseudo_nb_lr"]["val_acc"] == pseudo_nb["val"]["classifier_nb_lr"]
    assert pseudo_nb["weight"] in [w / 10 for w in range(11)]


def test_a_tested_stage_reports_the_validation_of_the_checkpoint_it_tests(monkeypatch):
    """The last epoch's validation accuracy (0.5) is not the tested best checkpoint's (0.9)."""
    from types import SimpleNamespace

    import lightning_nlp.cli
    from lightning_nlp.cli.recipe import fit_stage

    tested = []
    trainer = SimpleNamespace(
        callback_metrics={"val/acc": torch.tensor(0.5), "train/loss": torch.tensor(1.0)},
        checkpoint_callback=SimpleNamespace(monitor="val/acc", best_model_score=torch.tensor(0.9)),
        fit=lambda model, datamodule: None,
        test=lambda model, datamodule, ckpt_path: tested.append(ckpt_path) or [{"test/acc": 0.8}],
    )
    cli = SimpleNamespace(trainer=trainer, model=None, datamodule=None, run_dir="run",
                          before_fit=lambda: None)  # fmt: skip
    monkeypatch.setattr(lightning_nlp.cli, "run_cli", lambda args, run: cli)
    metrics = fit_stage("stage", "config.yaml", [], test=True).metrics
    assert metrics == pytest.approx({"val/acc": 0.9, "test/acc": 0.8}) and tested == ["best"]
    assert fit_stage("stage", "config.yaml", []).metrics == pytest.approx({"val/acc": 0.5})


def test_the_last_line_reports_the_smallest_count_run_when_its_own_was_not_run():
    from lightning_nlp.cli.curve import summary_line

    def row(method: str, budget: str, mean: float) -> dict:
        docs = 22500 if budget == "all" else int(budget)
        return {"method": method, "budget": budget, "train_docs": docs, "mean": mean}

    result = {
        "summary": [row("ulmfit", "all", 0.9), row("ulmfit", "5000", 0.88), row("ulmfit", "1000", 0.87),
                    row("nb_lr", "1000", 0.85)],
        "continuation": "", "run_dir": "run", "minutes": 1.0,
    }  # fmt: skip
    line = summary_line(result, 100)  # the config's count, not among those run
    assert (line["labels"], line["pretrained_acc"], line["nb_lr_acc"]) == ("1000", 0.87, 0.85)
    assert summary_line(result, None)["pretrained_acc"] == 0.9  # a count that was run stays
    assert summary_line({**result, "summary": [row("ulmfit", "all", 0.9)]}, 100)["labels"] == "all"


def test_curve_with_the_doc2vec_teacher_reports_the_teacher_on_the_test_split(tmp_path, capsys):
    """No language model needed: the teacher, NB-LR on its labels, and NB-LR alone."""
    main(
        [
            "curve",
            "--classifier", str(ROOT / "configs/ulmfit/embedded_clas.yaml"),
            "--classifier_args", f"--data.num_docs 600 --data.cache_dir {tmp_path / 'cache'}",
            "--methods", "[teacher, nb_lr_pseudo, nb_lr]",
            "--teacher", "nb_lr_doc2vec",
            "--counts", "[20]",
            "--seeds", "[1]",
            "--pseudo_docs", "20",
            "--summary_count", "20",
            "--output_dir", str(tmp_path / "curve"),
        ]
    )  # fmt: skip
    result = json.loads((tmp_path / "curve/version_0/curve.json").read_text())
    rows = {r["method"]: r for r in result["rows"]}
    assert sorted(rows) == ["nb_lr", "nb_lr_pseudo", "teacher"]
    teacher = rows["teacher"]
    assert teacher["train_docs"] == 20 and 0.0 <= teacher["acc"] <= 1.0
    assert 0.0 <= teacher["val_acc"] <= 1.0  # the teacher's validation accuracy, beside it
    assert (
        len((tmp_path / "curve/version_0/pseudo_labels_20_1.jsonl").read_text().splitlines()) == 20
    )
    with pytest.raises(ValueError, match="unknown teacher"):
        main(["curve", "--classifier", str(ROOT / "configs/ulmfit/embedded_clas.yaml"),
              "--methods", "[teacher]", "--teacher", "svm", "--counts", "[20]",
              "--output_dir", str(tmp_path / "curve")])  # fmt: skip
