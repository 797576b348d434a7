"""`lightning-nlp export` and `lightning_nlp.load`: a model folder that predicts and generates
as its checkpoint does, with no training code, data or unpickling."""

import json
import shutil
import sys

import pytest
import torch

import lightning_nlp
from lightning_nlp.checkpoints import CheckpointError
from lightning_nlp.cli import main, run_cli
from lightning_nlp.generate import generate
from lightning_nlp.precision import bf16_support
from tests import test_classify_cli
from tests.test_classify_cli import TEXTS, _args, _expected_probs
from tests.test_cli import _tiny_args

trained = test_classify_cli.trained  # a 2-epoch SST-2 classifier run


@pytest.fixture
def exported(trained, tmp_path, capsys):
    capsys.readouterr()
    main(["export", "--ckpt_path", str(trained), "--output", str(tmp_path / "model")])
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["kind"] == "classifier" and line["output"] == str(tmp_path / "model")
    return tmp_path / "model"


def test_the_exported_folder_predicts_as_the_checkpoint(exported, trained, tmp_path, monkeypatch):
    cli = run_cli(_args(tmp_path), run=False)  # the data module, to classify one by one
    cli.datamodule.setup("fit")
    expected = _expected_probs(trained / "checkpoints" / "last.ckpt", cli.datamodule, TEXTS)
    shutil.rmtree(tmp_path / "sst2")  # no training data needed
    shutil.rmtree(tmp_path / "cache")

    def no_unpickling(*args, **kwargs):
        raise AssertionError("torch.load called for a model folder")

    monkeypatch.setattr(torch, "load", no_unpickling)
    predictor = lightning_nlp.load(str(exported), backend="fp32")
    results = predictor.predict(TEXTS)
    assert len(results) == len(TEXTS)
    for result, probs in zip(results, expected):
        assert result["label"] == predictor.labels[int(probs.argmax())]
        assert list(result["probs"].values()) == pytest.approx(probs.tolist(), abs=1e-5)
    assert predictor.predict([]) == []


def test_checkpoint_run_folder_and_model_folder_give_the_same_predictor(exported, trained):
    from_folder = lightning_nlp.load(str(exported), backend="fp32").predict_probs(TEXTS)
    from_ckpt = lightning_nlp.load(str(trained / "checkpoints" / "last.ckpt"), backend="fp32")
    from_run = lightning_nlp.load(str(trained), backend="fp32")  # its `pretrained` folder
    torch.testing.assert_close(from_ckpt.predict_probs(TEXTS), from_folder)
    assert from_run.pretrained.max_len == from_ckpt.pretrained.max_len
    assert from_run.labels == from_ckpt.labels


def test_int8_predicts_close_to_fp32(exported):
    fp32 = lightning_nlp.load(str(exported), backend="fp32").predict_probs(TEXTS)
    int8 = lightning_nlp.load(str(exported), backend="int8")
    assert any(".quantized." in type(m).__module__ for m in int8.network.modules())
    torch.testing.assert_close(int8.predict_probs(TEXTS), fp32, atol=0.05, rtol=0)


def test_bad_calls_and_files_get_clear_errors(exported, tmp_path, capsys):
    predictor = lightning_nlp.load(str(exported), backend="fp32")
    with pytest.raises(TypeError, match="list of texts"):
        predictor.predict("one string")
    with pytest.raises(TypeError, match="string"):
        predictor.predict(["fine", 3])
    with pytest.raises(CheckpointError, match="classifier"):
        predictor.generate("the")
    (tmp_path / "junk.ckpt").write_bytes(b"\x00not a checkpoint")
    with pytest.raises(CheckpointError, match="junk.ckpt"):
        lightning_nlp.load(str(tmp_path / "junk.ckpt"))
    with pytest.raises(ValueError, match="backend 'fp16'"):
        lightning_nlp.load(str(exported), backend="fp16")
    foreign = {"hyper_parameters": {"network": {"class_path": "subprocess.Popen",
               "init_args": {"args": ["true"]}}}, "state_dict": {},
               "datamodule": {"vocab": ["<unk>"], "tokenizer": "whitespace"}}  # fmt: skip
    torch.save(foreign, tmp_path / "foreign.ckpt")
    with pytest.raises(CheckpointError, match="subprocess.Popen"):
        lightning_nlp.load(str(tmp_path / "foreign.ckpt"))
    (tmp_path / "keep").mkdir()
    (tmp_path / "keep" / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit):  # exit 2 with the message, nothing replaced
        main(["export", "--ckpt_path", str(tmp_path / "runs" / "version_0"),
              "--output", str(tmp_path / "keep")])  # fmt: skip
    assert "not a model folder" in capsys.readouterr().err
    assert (tmp_path / "keep" / "notes.txt").read_text() == "mine"
    config = json.loads((exported / "config.json").read_text())
    config["network"]["class_path"] = "subprocess.Popen"
    (exported / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="subprocess.Popen"):
        lightning_nlp.load(str(exported))


def test_an_exported_language_model_generates_as_its_checkpoint(tiny_corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["lightning-nlp"])
    run_cli(["fit", *_tiny_args(tiny_corpus, tmp_path, epochs=1, wandb=False)])
    ckpt = tmp_path / "run" / "version_0" / "checkpoints" / "last.ckpt"
    main(["export", "--ckpt_path", str(ckpt), "--output", str(tmp_path / "lm")])
    predictor = lightning_nlp.load(str(tmp_path / "lm"), backend="fp32")
    for options in ({"seed": 3}, {"beam_size": 3}):
        expected = generate(str(ckpt), "the", max_tokens=6, **options)
        assert predictor.generate("the", max_tokens=6, **options) == expected
    with pytest.raises(CheckpointError, match="language model"):
        predictor.predict(["the"])


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(url: str, body: bytes, content_type: str = "application/json") -> tuple[int, dict]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, body, {"Content-Type": content_type}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.mark.integration
def test_serve_answers_concurrent_requests_as_predict_and_refuses_bad_ones(exported, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from lightning_nlp.serve import background_server

    log = tmp_path / "server.log"
    options = ["--backend", "fp32", "--max_batch_size", "8", "--max_payload_bytes", "5000"]
    with background_server(
        str(exported), _free_port(), log, *options, "--max_chars", "1000"
    ) as url:
        texts = [t for t in TEXTS if t] * 4
        bodies = [json.dumps({"text": t}).encode() for t in texts]
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda b: _post(f"{url}/predict", b), bodies))
        expected = lightning_nlp.load(str(exported), backend="fp32").predict(texts)
        for (status, answer), want in zip(answers, expected):
            assert status == 200 and answer["label"] == want["label"]
            assert list(answer["probs"].values()) == pytest.approx(
                list(want["probs"].values()), abs=1e-5
            )
        bad = {
            b"not json": 400,
            b'["a list"]': 400,
            b'{"txt": "no text key"}': 400,
            b'{"text": 3}': 400,
            json.dumps({"text": "long " * 300}).encode(): 413,  # over max_chars
            json.dumps({"text": "x" * 6000}).encode(): 413,  # over max_payload_bytes
        }
        for body, code in bad.items():
            status, answer = _post(f"{url}/predict", body)
            assert status == code and answer.get("detail"), (body[:30], status, answer)
        assert _post(f"{url}/predict", b'{"text": "still serving"}')[0] == 200
    serving = log.read_text(errors="replace").split("Shutting down")[0]
    assert "Traceback" not in serving, serving[-3000:]  # no request crashed anything


@pytest.mark.integration
def test_torchscript_and_onnx_graphs_predict_as_pytorch(trained, exported, tmp_path, capsys):
    capsys.readouterr()
    folder = tmp_path / "graphs"
    main([
        "export", "--ckpt_path", str(trained), "--output", str(folder),
        "--torchscript", "true", "--onnx", "true",
    ])  # fmt: skip
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(line["graphs"]) == {"torchscript", "onnx"}
    assert json.loads((folder / "graphs.json").read_text()) == line["graphs"]
    assert all(g["max_abs_logit_diff"] <= 1e-4 for g in line["graphs"].values())
    expected = lightning_nlp.load(folder, backend="fp32").predict_probs(TEXTS)
    fastest = "bf16" if bf16_support("cpu").supported else "onnx"
    assert lightning_nlp.load(folder).backend == fastest  # "auto" picks the graph
    assert lightning_nlp.load(exported).backend in ("bf16", "int8")  # a folder without one
    for backend in ("torchscript", "onnx"):
        predictor = lightning_nlp.load(folder, backend=backend)
        torch.testing.assert_close(predictor.predict_probs(TEXTS), expected, atol=1e-5, rtol=0)
        assert [r["label"] for r in predictor.predict(TEXTS)] == [
            predictor.labels[int(p.argmax())] for p in expected
        ]


def test_graphs_of_a_language_model_are_refused_before_writing(tiny_corpus, tmp_path, capsys):
    run_cli(["fit", *_tiny_args(tiny_corpus, tmp_path, epochs=1, wandb=False)])
    capsys.readouterr()
    ckpt = tmp_path / "run" / "version_0" / "checkpoints" / "last.ckpt"
    with pytest.raises(SystemExit) as exit_:
        main(
            ["export", "--ckpt_path", str(ckpt), "--output", str(tmp_path / "m"), "--onnx", "true"]
        )
    assert exit_.value.code == 2
    assert "LSTMLanguageModel is not one" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()
    with pytest.raises(CheckpointError, match="lightning-nlp export --onnx true"):
        lightning_nlp.load(ckpt.parent.parent / "pretrained", backend="onnx")
