import math

import pytest
import pytorch_lightning as pl
import torch
from pytorch_lightning.callbacks import Callback

from lightning_nlp.data.lm.datamodule import TextFilesLMDataModule
from lightning_nlp.nn.lstm_lm import LSTMLanguageModel
from lightning_nlp.tasks.language_model import LanguageModelTask
from lightning_nlp.training.metrics.perplexity import Perplexity
from lightning_nlp.weights.checkpoints import build_network


def _task(**kw):
    return LanguageModelTask(LSTMLanguageModel(20, 8, 8, 1, 0.0), **kw)


def test_hidden_state_carried_detached_and_reset():
    task = _task()
    batch = (torch.randint(0, 20, (3, 5)), torch.randint(0, 20, (3, 5)))
    loss = task.training_step(batch, 0)
    carried = task._hidden["train"]
    assert carried is not None and not carried[0].requires_grad
    loss.backward()  # the graph ends at the window
    expected = task.network(batch[0]).hidden
    assert torch.allclose(carried[0], expected[0].detach())
    task.training_step(batch, 1)
    assert not torch.equal(task._hidden["train"][0], carried[0])  # started from the carried state
    assert task._hidden["val"] is None
    task.on_train_epoch_start()
    assert task._hidden["train"] is None


def test_perplexity_is_token_weighted():
    metric = Perplexity()
    metric.update(torch.tensor(1.0), 10)
    metric.update(torch.tensor(4.0), 30)
    assert math.isclose(float(metric.compute()), math.exp((10 * 1 + 30 * 4) / 40), rel_tol=1e-6)


def test_overfits_one_batch():
    torch.manual_seed(0)
    task = _task(optimizer=lambda p: torch.optim.Adam(p, lr=0.05))
    optimizer = task.configure_optimizers()
    batch = (torch.randint(0, 20, (2, 8)), torch.randint(0, 20, (2, 8)))
    first = None
    for _ in range(100):
        task.on_train_epoch_start()
        loss = task.training_step(batch, 0)
        first = first if first is not None else loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert float(loss) < 0.2 * first


class _Losses(Callback):
    def __init__(self):
        self.losses = []

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        self.losses.append(float(outputs["loss"]))


def _fit(corpus, cache, seed):
    pl.seed_everything(seed)
    dm = TextFilesLMDataModule(
        str(corpus),
        batch_size=4,
        eval_batch_size=2,
        bptt=6,
        variable_bptt=True,
        cache_dir=str(cache),
    )
    task = LanguageModelTask(LSTMLanguageModel(dm.vocab_size, 16, 16, 2, 0.2))
    losses = _Losses()
    trainer = pl.Trainer(
        max_epochs=2,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        callbacks=[losses],
        gradient_clip_val=0.25,
        deterministic=True,
    )
    trainer.fit(task, dm)
    result = trainer.test(task, dm, verbose=False)[0]
    return losses.losses, result


def test_same_seed_same_losses_and_test_ppl_is_reported(tiny_corpus, tmp_path):
    losses_a, result_a = _fit(tiny_corpus, tmp_path / "cache", seed=3)
    losses_b, result_b = _fit(tiny_corpus, tmp_path / "cache", seed=3)
    assert losses_a == losses_b and len(losses_a) > 10
    assert result_a == result_b
    # both are token-weighted over the whole split: they agree to float precision
    assert math.isclose(result_a["test/ppl"], math.exp(result_a["test/loss"]), rel_tol=1e-5)
    assert result_a["test/ppl"] < 21  # better than uniform over the 21-entry vocabulary


def _trainer(**kw):
    return pl.Trainer(
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        **kw,
    )


def test_a_non_finite_loss_gives_a_non_finite_perplexity(tiny_corpus, tmp_path):
    metric = Perplexity()
    metric.update(torch.tensor(1.0), 10)
    metric.update(torch.tensor(float("nan")), 5)
    assert math.isnan(float(metric.compute()))
    dm = TextFilesLMDataModule(str(tiny_corpus), bptt=5, cache_dir=str(tmp_path / "c"))
    task = LanguageModelTask(LSTMLanguageModel(dm.vocab_size, 8, 8, 1, 0.0))

    class DivergeOnce(Callback):  # one batch's loss becomes NaN, the others stay finite
        def on_validation_batch_start(self, trainer, module, batch, batch_idx, dataloader_idx=0):
            with torch.no_grad():
                module.network.decoder.bias[3] = float("nan") if batch_idx == 1 else 0.0

    result = _trainer(callbacks=[DivergeOnce()]).validate(task, dm, verbose=False)[0]
    assert math.isnan(result["val/ppl"])


def test_learning_rate_scaled_by_window_length_then_restored(tiny_corpus, tmp_path):
    dm = TextFilesLMDataModule(
        str(tiny_corpus),
        batch_size=2,
        bptt=10,
        variable_bptt=True,
        order_seed=5,
        cache_dir=str(tmp_path / "c"),
    )
    task = LanguageModelTask(
        LSTMLanguageModel(dm.vocab_size, 8, 8, 1, 0.0),
        optimizer=lambda p: torch.optim.SGD(p, lr=0.5),
    )
    seen = []

    class Record(Callback):
        def on_train_batch_start(self, trainer, module, batch, batch_idx):
            self.length = batch[0].shape[1]

        def on_before_optimizer_step(self, trainer, module, optimizer):
            seen.append((self.length, optimizer.param_groups[0]["lr"]))

        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
            assert trainer.optimizers[0].param_groups[0]["lr"] == 0.5

    _trainer(max_epochs=1, callbacks=[Record()]).fit(task, dm)
    lengths = {length for length, _ in seen}
    assert len(lengths) > 2  # variable windows
    for length, lr in seen:
        assert lr == pytest.approx(0.5 * length / 10)


def test_reduce_on_plateau_schedule_watches_validation_loss(tiny_corpus, tmp_path):
    dm = TextFilesLMDataModule(str(tiny_corpus), bptt=5, cache_dir=str(tmp_path / "c"))
    task = LanguageModelTask(
        LSTMLanguageModel(dm.vocab_size, 8, 8, 1, 0.0),
        optimizer=lambda p: torch.optim.SGD(p, lr=1e-6),
        lr_scheduler=lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(
            o, patience=0, factor=0.5
        ),
    )
    trainer = _trainer(max_epochs=3)
    trainer.fit(task, dm)
    assert trainer.lr_scheduler_configs[0].monitor == "val/loss"
    # with lr 1e-6 the validation loss hardly moves, so the plateau halves the rate
    assert trainer.optimizers[0].param_groups[0]["lr"] < 1e-6


def test_every_validation_run_starts_from_a_zero_state(tiny_corpus, tmp_path):
    dm = TextFilesLMDataModule(str(tiny_corpus), bptt=5, cache_dir=str(tmp_path / "c"))
    task = LanguageModelTask(LSTMLanguageModel(dm.vocab_size, 8, 8, 1, 0.0))
    starts = []

    class Record(Callback):
        def on_validation_batch_start(self, trainer, module, batch, batch_idx, dataloader_idx=0):
            if batch_idx == 0:
                starts.append(module._hidden["val"])
            elif batch_idx == 1:
                assert module._hidden["val"] is not None  # carried within the run

    _trainer(max_epochs=3, callbacks=[Record()], num_sanity_val_steps=2).fit(task, dm)
    assert len(starts) == 4 and all(state is None for state in starts)  # sanity + 3 epochs


def test_a_checkpoint_naming_a_class_that_is_not_a_network_is_refused(tmp_path):
    marker = tmp_path / "ran"
    config = {"class_path": "subprocess.Popen", "init_args": {"args": ["touch", str(marker)]}}
    with pytest.raises(ValueError, match="not an importable torch.nn.Module"):
        build_network(config)
    with pytest.raises(ValueError, match="'no.such.Network'"):
        build_network({"class_path": "no.such.Network"})
    assert not marker.exists()


def test_last_checkpoint_is_the_latest_state_when_validation_got_worse(tiny_corpus, tmp_path):
    dm = TextFilesLMDataModule(str(tiny_corpus), bptt=5, cache_dir=str(tmp_path / "c"))
    task = LanguageModelTask(
        LSTMLanguageModel(dm.vocab_size, 8, 8, 1, 0.0),
        optimizer=lambda p: torch.optim.SGD(p, lr=1e-6),
    )

    class WorseAfterTheFirstEpoch(Callback):  # validation only: a bias that ruins predictions
        def on_validation_epoch_start(self, trainer, module):
            self.kept = module.network.decoder.bias.detach().clone()
            if trainer.current_epoch >= 1:
                with torch.no_grad():
                    module.network.decoder.bias[3] = 30.0

        def on_validation_epoch_end(self, trainer, module):
            with torch.no_grad():
                module.network.decoder.bias.copy_(self.kept)

    trainer = pl.Trainer(
        accelerator="cpu",
        max_epochs=3,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=tmp_path / "run",
        callbacks=[WorseAfterTheFirstEpoch()],
    )
    trainer.fit(task, dm)
    folder = tmp_path / "run" / "checkpoints"  # no logger: the root is the run folder
    assert sorted(p.name for p in folder.iterdir())[0].startswith("best-epoch0-")
    last = torch.load(folder / "last.ckpt", map_location="cpu", weights_only=True)
    assert (last["epoch"], last["global_step"]) == (2, trainer.global_step)
