import json

import pytest

from lightning_nlp.cli import main
from lightning_nlp.data.synthetic.embedded import EmbeddedClassificationDataModule
from lightning_nlp.data.text.io import CorpusError


def test_a_backward_data_module_reverses_each_document(tmp_path):
    forward = EmbeddedClassificationDataModule(num_docs=50, cache_dir=str(tmp_path))
    backward = EmbeddedClassificationDataModule(
        num_docs=50, cache_dir=str(tmp_path), backwards=True
    )
    for f, b in zip(forward.split("train").documents, backward.split("train").documents):
        assert list(b) == list(f[::-1])
    assert backward.state_dict()["backwards"] is True


def _write(path, rows):
    path.write_text("".join(json.dumps({"label": "x", "probs": r}) + "\n" for r in rows))
    return str(path)


def test_ensemble_averages_probabilities(tmp_path, capsys):
    a = _write(tmp_path / "a.jsonl", [{"neg": 0.9, "pos": 0.1}, {"neg": 0.4, "pos": 0.6}])
    b = _write(tmp_path / "b.jsonl", [{"pos": 0.3, "neg": 0.7}, {"neg": 0.8, "pos": 0.2}])
    main(["ensemble", "--predictions", f"[{a},{b}]", "--output", str(tmp_path / "c.jsonl")])
    rows = [json.loads(line) for line in (tmp_path / "c.jsonl").read_text().splitlines()]
    assert rows[0]["probs"] == pytest.approx({"neg": 0.8, "pos": 0.2}) and rows[0]["label"] == "neg"
    assert rows[1]["probs"] == pytest.approx({"neg": 0.6, "pos": 0.4}) and rows[1]["label"] == "neg"
    (tmp_path / "gold.txt").write_text("neg\npos\n")
    main(["ensemble", "--predictions", f"[{a},{b}]", "--labels", str(tmp_path / "gold.txt")])
    err = capsys.readouterr().err
    assert "a.jsonl: accuracy 1.0000" in err and "b.jsonl: accuracy 0.5000" in err
    assert "average: accuracy 0.5000" in err


def test_ensemble_refuses_files_of_different_documents(tmp_path):
    a = _write(tmp_path / "a.jsonl", [{"neg": 0.9, "pos": 0.1}])
    b = _write(tmp_path / "b.jsonl", [{"neg": 0.9, "pos": 0.1}, {"neg": 0.5, "pos": 0.5}])
    from lightning_nlp.cli.ensemble import average_predictions

    with pytest.raises(CorpusError, match="b.jsonl: 2 lines"):
        average_predictions([a, b])
    c = _write(tmp_path / "c.jsonl", [{"neg": 0.9, "other": 0.1}])
    with pytest.raises(CorpusError, match="c.jsonl:1: labels"):
        average_predictions([a, c])


def _tested_run(folder, probs, labels, index=None):
    import numpy as np

    folder.mkdir()
    index = np.arange(len(labels)) if index is None else np.asarray(index)
    np.savez(folder / "test_probabilities.npz", index=index, probs=np.asarray(probs),
             labels=np.asarray(labels))  # fmt: skip
    return str(folder)


def test_ensemble_of_tested_runs_averages_their_test_probabilities(tmp_path, capsys):
    # run a is right on documents 0 and 1, run b on 1 and 2; their average on all three
    a = _tested_run(tmp_path / "a", [[0.9, 0.1], [0.4, 0.6], [0.6, 0.4]], [0, 1, 1])
    b = _tested_run(tmp_path / "b", [[0.4, 0.6], [0.45, 0.55], [0.1, 0.9]], [0, 1, 1])
    main(["ensemble", "--runs", f"[{a},{b}]"])
    line = json.loads(capsys.readouterr().out)
    assert line["runs"] == {a: pytest.approx(2 / 3), b: pytest.approx(2 / 3)}
    assert line["ensemble_acc"] == pytest.approx(1.0) and line["documents"] == 3


def test_ensemble_of_tested_runs_refuses_other_documents_and_untested_runs(tmp_path):
    a = _tested_run(tmp_path / "a", [[0.9, 0.1], [0.4, 0.6]], [0, 1])
    b = _tested_run(tmp_path / "b", [[0.8, 0.2], [0.9, 0.1]], [0, 1], index=[1, 0])
    from lightning_nlp.cli.ensemble import ensemble, ensemble_test_runs

    with pytest.raises(CorpusError, match="b and .*a were tested on other documents"):
        ensemble_test_runs([a, b])
    (tmp_path / "c").mkdir()
    with pytest.raises(CorpusError, match="c/test_probabilities.npz: no test probabilities"):
        ensemble_test_runs([a, str(tmp_path / "c")])
    with pytest.raises(CorpusError, match="give one of --predictions"):
        ensemble()
    with pytest.raises(CorpusError, match="--labels and --output go with --predictions"):
        ensemble(runs=[a, a], output="x.jsonl")
    three = _tested_run(tmp_path / "three", [[0.8, 0.1, 0.1], [0.3, 0.3, 0.4]], [0, 1])
    with pytest.raises(CorpusError, match="other classes"):
        ensemble_test_runs([a, three])


def test_the_weight_with_nb_lr_is_the_best_on_validation_ties_nearest_an_equal_average():
    import numpy as np

    from lightning_nlp.cli.ensemble import choose_weight

    gold = np.array([1, 1, 0, 0])
    net = np.array([0.9, 0.8, 0.2, 0.75])  # wrong on the last document
    linear = np.array([0.6, 0.4, 0.45, 0.3])  # wrong on the second
    weight, accs = choose_weight(net, linear, gold)
    assert accs[1.0] == accs[0.0] == 0.75 and accs[weight] == 1.0
    assert [w for w, a in accs.items() if a == 1.0] == [0.3, 0.4]
    assert weight == 0.4  # of the best, the nearest 0.5
    assert choose_weight(net, net, gold)[0] == 0.5  # one model twice: every weight ties
    # a perfect classifier against a perfectly wrong model: it must outweigh it, w > 0.5
    assert choose_weight(gold.astype(float), 1.0 - gold, gold)[0] == 0.6


def test_averaging_with_nb_lr_refuses_untested_runs_and_ambiguous_checkpoints(tmp_path):
    from lightning_nlp.cli.ensemble import ensemble, nb_lr_ensemble

    (tmp_path / "untested").mkdir()
    with pytest.raises(CorpusError, match="untested/test_probabilities.npz: no test prob"):
        nb_lr_ensemble(tmp_path / "untested")
    run = _tested_run(tmp_path / "run", [[0.9, 0.1]], [0])
    (tmp_path / "run" / "checkpoints").mkdir()
    for name in ("best-epoch0-acc0.500.ckpt", "best-epoch1-acc0.600.ckpt"):
        (tmp_path / "run" / "checkpoints" / name).write_bytes(b"")
    with pytest.raises(CorpusError, match="expected one best-\\*.ckpt, found 2"):
        nb_lr_ensemble(run)
    with pytest.raises(CorpusError, match="no run folders given"):
        ensemble(with_nb_lr=[])
    with pytest.raises(CorpusError, match="give one of"):
        ensemble(runs=[run, run], with_nb_lr=[run])


def test_curve_refuses_backward_methods_without_a_backward_lm_and_the_reverse(tmp_path):
    from lightning_nlp.cli.curve import learning_curve

    clas = "configs/ulmfit/embedded_clas.yaml"
    with pytest.raises(ValueError, match="need --backward"):
        learning_curve(clas, pretrained=str(tmp_path), methods=["ulmfit_pseudo_bwd"])
    with pytest.raises(ValueError, match="--backward is for the ULMFiT classifiers"):
        learning_curve(clas, pretrained=str(tmp_path), backward=str(tmp_path), methods=["nb_lr"])
    assert not any(tmp_path.iterdir())  # refused before anything ran


def test_the_curve_table_keeps_long_method_names_apart():
    from lightning_nlp.cli.curve import format_table

    summary = [
        {"method": m, "budget": "all", "mean": 0.9, "sd": 0.0, "seeds": 1}
        for m in ("ulmfit_pseudo", "ulmfit_pseudo_nb_lr")
    ]
    header, row = format_table(summary).splitlines()
    assert header.split() == ["labels", "ulmfit_pseudo", "ulmfit_pseudo_nb_lr"]
    assert row.split() == ["all", "90.0", "90.0"]
