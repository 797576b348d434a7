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
