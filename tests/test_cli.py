import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

from lightning_nlp.cli import main, run_cli
from lightning_nlp.cli.generate import generate
from lightning_nlp.cli.main import NESTED_ARGS_WARNING, _names_a_model
from lightning_nlp.data.text.io import CorpusError
from lightning_nlp.weights.checkpoints import CheckpointError

ROOT = Path(__file__).resolve().parents[1]
# LightningCLI experiment configs (a `curve` config names other configs instead of a model; a
# sizes file such as configs/ulmfit/sizes_cpu.yaml is a part that other configs read)
CONFIGS = sorted(p for p in (ROOT / "configs").rglob("*.yaml") if _names_a_model(p))


def user_env() -> dict[str, str]:
    """The environment a user runs the commands in: this one without the W&B variables that
    the tests set (its WANDB_* variables). Only where W&B credentials are stored does it
    keep runs offline, so that tests never upload."""
    from lightning_nlp.training.loggers import wandb_has_credentials

    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    if wandb_has_credentials():
        env["WANDB_MODE"] = "offline"
    return env


def _tiny_args(corpus: Path, tmp_path: Path, epochs: int = 2, wandb: bool = True) -> list[str]:
    """A tiny LM run whose run folders go under tmp_path/run."""
    logger = [] if wandb else ["--trainer.logger", "pytorch_lightning.loggers.CSVLogger"]
    return [
        "--config",
        str(ROOT / "configs/lm/embedded_lstm.yaml"),
        "--data",
        "lightning_nlp.data.lm.datamodule.TextFilesLMDataModule",
        "--data.data_dir",
        str(corpus),
        "--data.cache_dir",
        str(tmp_path / "cache"),
        "--data.tokenizer",
        "whitespace",
        "--data.batch_size",
        "4",
        "--data.eval_batch_size",
        "2",
        "--data.bptt",
        "8",
        "--model.network.embed_dim",
        "16",
        "--model.network.hidden_dim",
        "16",
        "--trainer.max_epochs",
        str(epochs),
        "--trainer.default_root_dir",
        str(tmp_path / "run"),
        *logger,
        "--trainer.enable_progress_bar",
        "false",
    ]


@pytest.fixture(autouse=True)
def _plain_argv(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["lightning-nlp"])


def _config_data(config: Path, tmp_path: Path, tiny_corpus: Path) -> list[str]:
    """Arguments that point a config at a small fixture in its corpus's real format."""
    import yaml

    from tests.data import corpus_fixtures as fx

    data_class = yaml.safe_load(config.read_text())["data"]["class_path"]
    if data_class.split(".")[2] == "lm":  # lightning_nlp.data.lm.*: WikiText, PTB, text files
        return [
            "--data.data_dir",
            str(tiny_corpus),
            "--data.train_file",
            "train.txt",
            "--data.val_file",
            "valid.txt",
            "--data.test_file",
            "test.txt",
        ]
    writers = {
        "sst2": fx.write_sst2,
        "trec": fx.write_trec,
        "newsgroups6": fx.write_newsgroups_tar,
        "gnad": fx.write_gnad,
        "imdb": fx.write_imdb_tar,
        "csv": fx.write_csv,
    }
    if config.stem.startswith("embedded"):
        return ["--data.num_docs", "1000"]  # 100 labelled restaurant reviews for the demo's
    if config.stem.startswith("bilm_imdb"):
        return ["--data.data_dir", str(fx.write_imdb_tar(tmp_path / "data"))]
    writer = writers[config.stem.split("_")[0]]
    args = ["--data.data_dir", str(writer(tmp_path / "data"))]
    if "elmo_weights" in config.read_text():
        args += ["--model.init_args.network.init_args.elmo_weights", str(_tiny_bilm(tmp_path))]
    return args


def _tiny_bilm(tmp_path: Path) -> Path:
    """A model folder of a tiny, untrained biLM (for the ELMo classifier configs)."""
    from lightning_nlp.data.text.vocab import SPECIALS, Vocab
    from lightning_nlp.nn.elmo.language_model import BiLMLanguageModel
    from lightning_nlp.weights.pretrained import save_pretrained

    network = BiLMLanguageModel(4, [[1, 4]], projection_dim=4, cell_dim=8)
    return save_pretrained(tmp_path / "bilm", network, Vocab(list(SPECIALS)), "whitespace")


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: str(p.relative_to(ROOT / "configs")))
def test_every_config_parses(config, tiny_corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = [
        "--config",
        str(config),
        *_config_data(config, tmp_path, tiny_corpus),
        "--data.cache_dir",
        str(tmp_path / "cache"),
    ]
    cli = run_cli(args, run=False)
    network = cli.model.hparams.network["init_args"]
    assert network["vocab_size"] == cli.datamodule.vocab_size
    if hasattr(cli.datamodule, "num_classes"):
        assert network["num_classes"] == cli.datamodule.num_classes >= 2
    sizes = _included_sizes(config)
    if sizes:  # a ULMFiT stage: its sizes are the shared file's, whatever class it builds
        assert {k: network[k] for k in sizes} == sizes


def _included(config: Path) -> str | None:
    """The file a config includes (`config: sizes_*.yaml`), if any."""
    import yaml

    return yaml.safe_load(config.read_text()).get("config")


def _included_sizes(config: Path) -> dict[str, int]:
    """The network sizes of the file a config includes, if any."""
    import yaml

    included = _included(config)
    if included is None:
        return {}
    sizes = yaml.safe_load((config.parent / included).read_text())
    return sizes["model"]["init_args"]["network"]["init_args"]


def test_ulmfit_stages_write_their_sizes_once():
    """Every ULMFiT stage reads its sizes from one shared file, and no stage repeats them."""
    stages = sorted((ROOT / "configs" / "ulmfit").glob("*.yaml"))
    by_file: dict[str, list[str]] = {}
    for config in stages:
        text = config.read_text()
        if "AWDLSTM" not in text:
            continue
        for size in ("embed_dim:", "hidden_dim:", "num_layers:"):
            assert size not in text, f"{config.name} repeats {size} of its sizes file"
        assert text.rstrip().splitlines()[-1].startswith("config: "), "the sizes file comes last"
        by_file.setdefault(_included(config), []).append(config.stem)
    assert by_file == {
        "sizes_cpu.yaml": [
            "embedded_clas",
            "embedded_finetune",
            "embedded_lm",
            "imdb_cpu_clas",
            "imdb_cpu_lm",
        ],
        "sizes_paper.yaml": ["imdb_clas", "imdb_finetune", "imdb_gpu_lm", "imdb_lm"],
    }


def test_a_stage_size_on_the_command_line_beats_the_shared_file(tiny_corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = ROOT / "configs" / "ulmfit" / "embedded_lm.yaml"
    args = ["--config", str(config), "--model.network.hidden_dim", "24", "--data.num_docs", "50"]
    cli = run_cli([*args, "--data.cache_dir", str(tmp_path / "cache")], run=False)
    assert cli.model.hparams.network["init_args"]["hidden_dim"] == 24
    assert cli.model.hparams.network["init_args"]["embed_dim"] == 100  # from sizes_cpu.yaml


@pytest.mark.integration
def test_fit_then_generate_end_to_end(tiny_corpus, tmp_path):
    env = user_env()
    exe = shutil.which("lightning-nlp", path=str(Path(sys.executable).parent))
    fit = subprocess.run(
        [exe, "fit", *_tiny_args(tiny_corpus, tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert fit.returncode == 0, fit.stderr[-3000:]
    run = tmp_path / "run" / "version_0"
    last = run / "checkpoints" / "last.ckpt"
    assert last.is_file()
    assert any(p.name.startswith("best-") for p in (run / "checkpoints").iterdir())
    assert list((run / "wandb").glob("offline-run-*")), "no offline W&B run directory"
    assert (run / "config.yaml").is_file() and (run / "vocab.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "corpus", "run"]

    checkpoint = torch.load(last, map_location="cpu", weights_only=True)
    data_state = checkpoint["TextFilesLMDataModule"]
    assert data_state["vocab"] == json.loads((run / "vocab.json").read_text())["itos"]

    gen = subprocess.run(
        [exe, "generate", "--ckpt_path", str(tmp_path / "run"), "--prompt", "the cat"]
        + ["--max_tokens", "5", "--seed", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert gen.returncode == 0, gen.stderr[-3000:]
    assert gen.stdout.startswith("the cat ") and gen.stdout.count("\n") == 1  # the text only
    beams = generate(str(last), prompt="the", max_tokens=4, beam_size=3)
    assert len(beams) == 1 and beams[0].startswith("the")
    assert generate(str(last), "the", 6, seed=4) == generate(str(last), "the", 6, seed=4)


def test_resume_from_checkpoint(tiny_corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_cli(["fit", *_tiny_args(tiny_corpus, tmp_path, epochs=1, wandb=False)])
    ckpt = tmp_path / "run" / "version_0" / "checkpoints" / "last.ckpt"
    steps_per_epoch = torch.load(ckpt, weights_only=True)["global_step"]
    cli = run_cli(
        ["fit", *_tiny_args(tiny_corpus, tmp_path, epochs=2, wandb=False), "--ckpt_path", str(ckpt)]
    )
    assert cli.trainer.current_epoch == 2
    assert cli.trainer.global_step == 2 * steps_per_epoch
    resumed = tmp_path / "run" / "version_1"
    assert "val/ppl" in (resumed / "metrics.csv").read_text()
    hparams = (resumed / "hparams.yaml").read_text()
    for key in (
        "data/files",
        "data/corpus_fingerprint",
        "data/vocab_fingerprint",
        "seed_everything",
    ):
        assert key in hparams


def _permuted_vocab(run: Path, path: Path) -> Path:
    """The run's vocabulary with two words swapped: same size, other ids."""
    itos = json.loads((run / "vocab.json").read_text())["itos"]
    itos[4], itos[5] = itos[5], itos[4]
    path.write_text(json.dumps({"itos": itos}))
    return path


@pytest.mark.parametrize("command", ["fit", "test"])
def test_a_vocabulary_of_the_same_size_in_another_order_is_refused(
    command, tiny_corpus, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    run_cli(["fit", *_tiny_args(tiny_corpus, tmp_path, epochs=1, wandb=False)])
    run = tmp_path / "run" / "version_0"
    other = _permuted_vocab(run, tmp_path / "other_vocab.json")
    args = _tiny_args(tiny_corpus, tmp_path, epochs=2, wandb=False)
    args += ["--data.vocab_path", str(other), "--ckpt_path", str(run / "checkpoints" / "last.ckpt")]
    with pytest.raises(CorpusError, match="its vocabulary .* is not this data module's"):
        run_cli([command, *args])


def test_generate_from_missing_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="nothing.ckpt"):
        generate(str(tmp_path / "nothing.ckpt"))


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in (
        "fit",
        "test",
        "predict",
        "generate",
        "train-vectors",
        "baseline",
        "ulmfit",
        "convert",
        "ensemble",
    ):
        assert command in out


def test_generate_refuses_a_classifier_checkpoint(tmp_path, monkeypatch):
    from tests.data import corpus_fixtures as fx

    monkeypatch.chdir(tmp_path)
    args = ["--config", str(ROOT / "configs/classify/trec_lstm.yaml")]
    args += ["--data.data_dir", str(fx.write_trec(tmp_path / "trec"))]
    args += ["--data.cache_dir", str(tmp_path / "c"), "--trainer.max_epochs", "1"]
    args += ["--trainer.logger", "false", "--trainer.default_root_dir", str(tmp_path / "runs")]
    run_cli(["fit", *args])
    with pytest.raises(CheckpointError, match="is a TextClassifierTask checkpoint"):
        generate(str(tmp_path / "runs"))


def test_ranks_started_by_a_run_use_its_saved_vocabulary(tiny_corpus, tmp_path, monkeypatch):
    """A rank that Lightning starts inherits the run folder and reads vocab.json from it
    instead of building the vocabulary again."""
    monkeypatch.chdir(tmp_path)
    run = tmp_path / "run" / "version_7"
    run.mkdir(parents=True)
    (run / "vocab.json").write_text(json.dumps({"itos": ["<pad>", "<unk>", "<bos>", "<eos>", "x"]}))
    monkeypatch.setenv("LIGHTNING_NLP_RUN_DIR", str(run))
    cli = run_cli(_tiny_args(tiny_corpus, tmp_path, wandb=False), run=False)
    assert cli.datamodule.hparams.vocab_path == str(run / "vocab.json")
    assert cli.model.hparams.network["init_args"]["vocab_size"] == 5
    assert cli.trainer.default_root_dir == str(run)


def test_every_listed_subcommand_has_a_function():
    from lightning_nlp.cli.main import COMMAND_FUNCTIONS, EXTRA_COMMANDS, _extra_command

    assert set(EXTRA_COMMANDS) == set(COMMAND_FUNCTIONS)
    assert all(callable(_extra_command(name)) for name in EXTRA_COMMANDS)


def test_fit_logs_the_learning_rate_of_every_parameter_group(tmp_path, monkeypatch):
    """ULMFiT's classifier: one rate per layer group (discriminative), each step."""
    import csv

    monkeypatch.chdir(tmp_path)
    args = [
        "fit", "--config", str(ROOT / "configs/ulmfit/embedded_clas.yaml"),
        "--data.num_docs", "600", "--data.train_size", "60", "--data.cache_dir", str(tmp_path / "cache"),
        "--model.network.embed_dim", "8", "--model.network.hidden_dim", "8",
        "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "3",
        "--trainer.limit_val_batches", "1", "--trainer.log_every_n_steps", "1",
        "--trainer.enable_progress_bar", "false",
        "--trainer.default_root_dir", str(tmp_path / "run"),
    ]  # fmt: skip
    run_cli([*args, "--trainer.logger", "pytorch_lightning.loggers.CSVLogger"])
    with open(tmp_path / "run" / "version_0" / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    columns = sorted(c for c in rows[0] if c.startswith("lr-"))
    assert len(columns) > 1  # one per layer group
    first = next(r for r in rows if r[columns[0]])
    rates = sorted(float(first[c]) for c in columns)
    assert rates[-1] / rates[0] > 2.0  # lower groups at lower rates
    run_cli([*args, "--trainer.logger", "false"])  # a run without a logger is not refused


def test_a_shared_part_given_last_does_not_name_the_run_folder():
    """`--config imdb_cpu_clas.yaml --config sizes_paper.yaml`: the run is the classifier's."""
    from jsonargparse import Namespace

    from lightning_nlp.cli.main import default_root

    ulmfit = ROOT / "configs" / "ulmfit"
    config = Namespace(
        config=[str(ulmfit / "imdb_cpu_clas.yaml"), str(ulmfit / "sizes_paper.yaml")],
        model=Namespace(class_path="lightning_nlp.tasks.text_classifier.TextClassifierTask"),
    )
    assert default_root(config) == Path("runs", "ulmfit", "imdb_cpu_clas")
    config.config = [str(ulmfit / "sizes_paper.yaml")]  # no experiment: the last file after all
    assert default_root(config) == Path("runs", "ulmfit", "sizes_paper")


def test_a_stage_run_by_another_command_does_not_warn_about_its_args(
    tiny_corpus, tmp_path, monkeypatch
):
    """`ulmfit`, `compare` and `curve` build stages with `args` under their own sys.argv."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["lightning-nlp", "curve", "--counts", "[100]"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_cli(_tiny_args(tiny_corpus, tmp_path, epochs=1, wandb=False), run=False)
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if m.startswith(NESTED_ARGS_WARNING)], messages
    assert sys.argv == ["lightning-nlp", "curve", "--counts", "[100]"]
