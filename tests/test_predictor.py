"""`lightning-nlp export` and `lightning_nlp.load`: a model folder that predicts and generates
as its checkpoint does, with no training code, data or unpickling."""

import json
import shutil
import sys

import pytest
import torch

import lightning_nlp
from lightning_nlp.cli import main, run_cli
from lightning_nlp.cli.generate import generate
from lightning_nlp.weights.checkpoints import CheckpointError
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

    from lightning_nlp.inference.serve import background_server

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
def test_torchscript_and_onnx_graphs_predict_as_pytorch(
    trained, exported, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user_cache"))  # auto's cache
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
    assert lightning_nlp.load(folder).backend == "fp32"  # the default, graphs or not
    auto = lightning_nlp.load(folder, backend="auto").auto  # the graphs measured with the rest
    assert {"torchscript", "onnx"} <= set(auto["seconds"]) | set(auto["rejected"])
    assert auto["seconds"][auto["backend"]] <= auto["seconds"]["fp32"]
    assert not {"torchscript", "onnx"} & set(
        lightning_nlp.load(exported, backend="auto").auto["seconds"]
    )
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


# `auto` and the default backend, on tiny untrained folders (no training run needed)

WORDS = "a film good bad dull funny moving the was not very plot acting".split()
SENTENCES = ["a good film", "dull", "the plot was not very funny", "", "moving acting bad"]


def _tiny_folder(folder, seed: int = 0, language_model: bool = False):
    from lightning_nlp.data.text.vocab import SPECIALS, Vocab
    from lightning_nlp.nn.lstm_lm import LSTMLanguageModel
    from lightning_nlp.nn.text_classifiers import RNNClassifier
    from lightning_nlp.weights.pretrained import save_pretrained

    torch.manual_seed(seed)
    vocab = Vocab([*SPECIALS, *WORDS])
    if language_model:
        network = LSTMLanguageModel(len(vocab), 8, 8, num_layers=1, dropout=0.0)
        return save_pretrained(folder, network, vocab, "whitespace")
    network = RNNClassifier(len(vocab), 8, 8, 2, cell="gru", bidirectional=True)
    return save_pretrained(folder, network, vocab, "whitespace", labels=["neg", "pos"])


@pytest.fixture
def tiny_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user_cache"))  # auto's cache
    return _tiny_folder(tmp_path / "tiny")


def _fake_times(monkeypatch, seconds: dict[str, float]) -> list[str]:
    """Makes `auto` see `seconds` per backend (1.0 for others); returns the backends timed."""
    from lightning_nlp.inference import predictor

    timed = []

    def time_backend(candidate, batches):
        timed.append(candidate.backend)
        return seconds.get(candidate.backend, 1.0)

    monkeypatch.setattr(predictor, "time_backend", time_backend)
    return timed


def test_the_default_backend_is_fp32_as_predict_computes(tiny_folder):
    import inspect

    from lightning_nlp.inference import predictor as module
    from lightning_nlp.inference.serve import serve

    for function in (lightning_nlp.load, module.load, module.Predictor, serve):
        assert inspect.signature(function).parameters["backend"].default == "fp32", function
    default = lightning_nlp.load(tiny_folder)
    assert default.backend == "fp32" and default.auto is None
    probs = default.predict_probs(SENTENCES)
    assert torch.equal(
        probs, lightning_nlp.load(tiny_folder, backend="fp32").predict_probs(SENTENCES)
    )
    network, vocab = default.pretrained.network, default.pretrained.vocab
    for text, row in zip(SENTENCES, probs):  # the network itself, one text at a time
        ids = torch.tensor([vocab.encode(text.split()) or [vocab.unk_id]])
        with torch.inference_mode():
            direct = network(ids, torch.tensor([ids.shape[1]])).float().softmax(-1)[0]
        torch.testing.assert_close(row, direct, atol=1e-6, rtol=0)


def test_auto_chooses_the_fastest_accepted_backend_fp32_included(tiny_folder, monkeypatch):
    from lightning_nlp.inference import predictor as module

    _fake_times(monkeypatch, {"fp32": 1.0, "bf16": 2.0, "int8": 1.5})
    slower = lightning_nlp.load(tiny_folder, backend="auto")
    assert slower.backend == "fp32" and slower.auto["seconds"]["fp32"] == 1.0
    module.auto_cache_path().unlink()  # measure again, with int8 faster than fp32
    _fake_times(monkeypatch, {"fp32": 1.0, "bf16": 2.0, "int8": 0.5})
    faster = lightning_nlp.load(tiny_folder, backend="auto")
    assert faster.backend == "int8"
    assert any(".quantized." in type(m).__module__ for m in faster.network.modules())
    assert set(faster.auto["seconds"]) == set(
        module.candidate_backends(faster.pretrained, tiny_folder)
    )


def test_auto_measured_here_is_never_slower_than_fp32(tiny_folder, tmp_path):
    from lightning_nlp.inference import predictor as module

    chosen = lightning_nlp.load(tiny_folder, backend="auto", batch_size=8)
    entry = chosen.auto
    assert entry["backend"] == chosen.backend
    assert entry["seconds"][chosen.backend] <= entry["seconds"]["fp32"]
    assert all(entry["max_abs_diff"][b] <= module.AUTO_TOLERANCE for b in entry["seconds"])
    cached = json.loads(module.auto_cache_path().read_text())["entries"]
    assert list(cached.values()) == [entry]
    expected = lightning_nlp.load(tiny_folder, backend="fp32").predict_probs(SENTENCES)
    torch.testing.assert_close(
        chosen.predict_probs(SENTENCES), expected, atol=module.AUTO_TOLERANCE, rtol=0
    )
    lm = lightning_nlp.load(_tiny_folder(tmp_path / "lm", language_model=True), backend="auto")
    assert lm.auto["seconds"][lm.backend] <= lm.auto["seconds"]["fp32"]
    assert len(lm.generate("the film", max_tokens=3)) == 1


def test_auto_refuses_a_backend_beyond_the_tolerance(tiny_folder, monkeypatch):
    from lightning_nlp.inference import predictor as module

    _fake_times(monkeypatch, {"fp32": 1.0, "bf16": 2.0, "int8": 0.1})  # int8 the fastest
    honest = module.Predictor._probs
    shift = {"int8": 2 * module.AUTO_TOLERANCE}

    def perturbed(self, tokens, lengths):
        return honest(self, tokens, lengths) + shift.get(self.backend, 0.0)

    monkeypatch.setattr(module.Predictor, "_probs", perturbed)
    refused = lightning_nlp.load(tiny_folder, backend="auto")
    assert refused.backend != "int8" and "int8" not in refused.auto["seconds"]
    assert refused.auto["rejected"]["int8"].startswith("max abs probability difference 0.02")
    assert refused.auto["rejected"]["int8"].endswith("> 0.01")
    module.auto_cache_path().unlink()
    shift["int8"] = module.AUTO_TOLERANCE / 4  # within the tolerance: accepted, and fastest
    assert lightning_nlp.load(tiny_folder, backend="auto").backend == "int8"


def test_auto_is_cached_per_folder_and_machine(tiny_folder, tmp_path, monkeypatch):
    from lightning_nlp.inference import predictor as module

    timed = _fake_times(monkeypatch, {"int8": 0.5})
    first = lightning_nlp.load(tiny_folder, backend="auto")
    assert first.backend == "int8" and "fp32" in timed
    count = len(timed)
    again = lightning_nlp.load(tiny_folder, backend="auto")  # read back: nothing timed
    assert len(timed) == count and again.backend == "int8" and again.auto == first.auto
    path = module.auto_cache_path()
    assert len(json.loads(path.read_text())["entries"]) == 1
    other = _tiny_folder(tmp_path / "other", seed=1)  # another folder: measured for itself
    lightning_nlp.load(other, backend="auto")
    assert len(timed) > count and len(json.loads(path.read_text())["entries"]) == 2
    count = len(timed)
    lightning_nlp.load(other, backend="auto")
    assert len(timed) == count
    machine = module.machine_key()
    monkeypatch.setattr(module, "machine_key", lambda: {**machine, "cpu": "another CPU"})
    lightning_nlp.load(other, backend="auto")  # another machine: measured again
    assert len(timed) > count and len(json.loads(path.read_text())["entries"]) == 3
    monkeypatch.setattr(module, "machine_key", lambda: machine)
    path.write_text('{"version": 1, "entries": {"truncat')  # a corrupt cache: ignored, rewritten
    count = len(timed)
    assert lightning_nlp.load(tiny_folder, backend="auto").backend == "int8"
    assert len(timed) > count and len(json.loads(path.read_text())["entries"]) == 1


def test_serve_defaults_to_fp32_and_resolves_auto_once(tiny_folder, monkeypatch):
    from lightning_nlp.inference import serve as serve_module

    servers = []

    class FakeServer:
        def __init__(self, api, **options):
            servers.append(api)

        def run(self, **options):
            pass

    monkeypatch.setattr(serve_module.ls, "LitServer", FakeServer)
    serve_module.serve_cli([str(tiny_folder)])
    assert servers[-1].backend == "fp32"
    _fake_times(monkeypatch, {"int8": 0.5})
    serve_module.serve(str(tiny_folder), backend="auto")
    assert servers[-1].backend == "int8"  # the workers load what auto chose, not "auto"


@pytest.mark.parametrize("language_model", [False, True], ids=["classifier", "language-model"])
def test_load_and_predict_do_not_import_lightning(tmp_path, language_model):
    """Inference needs torch alone: a service that loads a model folder does not import
    Lightning (nor the training tasks and data modules)."""
    import subprocess

    folder = _tiny_folder(tmp_path / "tiny", language_model=language_model)
    use = "p.generate('good', max_tokens=3)" if language_model else "p.predict(['good', 'bad'])"
    script = (
        "import sys, lightning_nlp\n"
        f"p = lightning_nlp.load({str(folder)!r})\n"
        f"{use}\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in "
        "('pytorch_lightning', 'lightning', 'lightning_fabric', 'torchmetrics')]\n"
        "print(sorted(loaded)[:5])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
        env={**__import__("os").environ, "XDG_CACHE_HOME": str(tmp_path / "cache")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_bf16_backend_keeps_gru_weights_in_bf16_and_the_loaded_network_in_fp32(
    tiny_folder, monkeypatch
):
    """GRUs run step by step: the bf16 backend stores their weights in bf16 (no cast at each
    step under autocast) on its own copy of the network; probabilities stay close to fp32's."""
    from lightning_nlp.inference.predictor import Predictor
    from lightning_nlp.training import precision
    from lightning_nlp.weights.pretrained import load_pretrained

    monkeypatch.setenv(precision.EMULATE_ENV, "1")  # runs where the CPU has no bf16 units too
    pretrained = load_pretrained(tiny_folder)
    fp32 = Predictor(pretrained, backend="fp32").predict_probs(TEXTS)
    bf16 = Predictor(pretrained, backend="bf16")
    assert bf16.network.rnn.weight_hh_l0.dtype == torch.bfloat16
    assert pretrained.network.rnn.weight_hh_l0.dtype == torch.float32  # auto measures it next
    probs = bf16.predict_probs(TEXTS)
    assert probs.dtype == torch.float32
    torch.testing.assert_close(probs, fp32, atol=0.02, rtol=0)
    assert torch.equal(Predictor(pretrained, backend="fp32").predict_probs(TEXTS), fp32)


def test_elmo_model_folder_spells_words_its_vocabulary_lacks(tmp_path):
    """`load(folder).predict` reads a word that the training vocabulary lacks by its spelling
    (as `--data.eval_words_in_vocab true` does in the CLI), not as `<unk>`."""
    from lightning_nlp.data.text.vocab import SPECIALS, Vocab
    from lightning_nlp.nn.elmo.language_model import BiLMLanguageModel
    from lightning_nlp.weights.elmo import PretrainedElmoClassifier
    from lightning_nlp.weights.pretrained import save_pretrained

    torch.manual_seed(0)
    bilm = BiLMLanguageModel(4, [[1, 4], [2, 4]], char_dim=4, projection_dim=6, cell_dim=8)
    bilm_folder = save_pretrained(tmp_path / "bilm", bilm, Vocab(list(SPECIALS)), "whitespace")
    itos = [*SPECIALS, "good", "bad"]
    network = PretrainedElmoClassifier(len(itos), 2, str(bilm_folder), hidden_dim=4).eval()
    network.set_vocabulary(itos)
    folder = save_pretrained(
        tmp_path / "clas", network, Vocab(itos), "whitespace", labels=["n", "p"]
    )
    predictor = lightning_nlp.load(str(folder))
    spelled, unknown = predictor.predict_probs(["good zebra", "good <unk>"])
    assert not torch.allclose(spelled, unknown)  # "zebra" is not read as <unk>
    assert predictor.network.unseen_chars.shape[0] == 1  # the texts' one unseen word
    network.spell_unseen(["zebra"])  # id 6, after the vocabulary
    with torch.no_grad():
        expected = network(torch.tensor([[4, 6]]), torch.tensor([2])).softmax(-1)[0]
    torch.testing.assert_close(spelled, expected)
