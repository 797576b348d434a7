"""Discriminative learning rates, the slanted triangular schedule, gradual unfreezing, NT-ASGD."""

from types import SimpleNamespace

import pytest
import pytorch_lightning as pl
import torch

from lightning_nlp.data.synthetic.embedded import EmbeddedClassificationDataModule
from lightning_nlp.nn.awd_lstm import AWDLSTMClassifier
from lightning_nlp.nn.lstm_lm import LSTMLanguageModel
from lightning_nlp.tasks.language_model import LanguageModelTask
from lightning_nlp.tasks.text_classifier import TextClassifierTask
from lightning_nlp.training.callbacks.gradual_unfreezing import GradualUnfreezing
from lightning_nlp.training.callbacks.nt_asgd import NTASGD
from lightning_nlp.training.schedules import SlantedTriangularLR


def _classifier(**kw):
    network = AWDLSTMClassifier(50, 2, embed_dim=8, hidden_dim=12, num_layers=3, bptt=8)
    return TextClassifierTask(network, **kw)


def test_parameter_groups_carry_discriminative_learning_rates():
    task = _classifier(lr_decay=2.6, optimizer=lambda p: torch.optim.Adam(p, lr=0.01))
    optimizer = task.configure_optimizers()
    rates = [group["lr"] for group in optimizer.param_groups]
    assert rates == pytest.approx([0.01 / 2.6**k for k in (4, 3, 2, 1, 0)])
    groups = task.network.layer_groups()
    for group, expected in zip(optimizer.param_groups, groups):
        assert [id(p) for p in group["params"]] == [id(p) for p in expected]


def test_one_cycle_keeps_the_discriminative_ratios():
    task = _classifier(
        lr_decay=2.0,
        optimizer=lambda p: torch.optim.SGD(p, lr=0.1),
        lr_scheduler=lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=10),
    )
    optimizer = task.configure_optimizers()["optimizer"]
    peaks = [group["max_lr"] for group in optimizer.param_groups]
    assert peaks == pytest.approx([0.1 / 2**k for k in (4, 3, 2, 1, 0)])
    rates = [group["lr"] for group in optimizer.param_groups]
    assert rates == pytest.approx([0.1 / 25 / 2**k for k in (4, 3, 2, 1, 0)])


def test_without_lr_decay_one_group_holds_everything():
    optimizer = _classifier().configure_optimizers()
    assert len(optimizer.param_groups) == 1
    assert len(optimizer.param_groups[0]["params"]) == len(list(_classifier().parameters()))


def test_slanted_triangular_schedule_rises_then_falls_per_group():
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([{"params": [parameter], "lr": 1.0}, {"params": [], "lr": 0.5}])
    schedule = SlantedTriangularLR(optimizer, total_steps=100, cut_frac=0.1, ratio=32)
    seen = []
    for _ in range(100):
        seen.append([g["lr"] for g in optimizer.param_groups])
        optimizer.step()
        schedule.step()
    top = [s[0] for s in seen]
    assert top[0] == pytest.approx(1 / 32)
    assert max(top) == pytest.approx(1.0) and top.index(max(top)) == 10
    assert top[-1] < 0.05 and all(a >= b for a, b in zip(top[10:], top[11:]))
    assert all(s[1] == pytest.approx(s[0] / 2) for s in seen)  # ratios between groups kept


def test_gradual_unfreezing_trains_one_more_group_each_epoch(tmp_path):
    pl.seed_everything(0)
    dm = EmbeddedClassificationDataModule(num_docs=200, cache_dir=str(tmp_path), batch_size=16)
    network = AWDLSTMClassifier(dm.vocab_size, 2, embed_dim=8, hidden_dim=12, bptt=16)
    task = TextClassifierTask(network, lr_decay=2.6, early_stopping_patience=None)
    groups = network.layer_groups()
    trainable, changed = [], []

    class Record(pl.Callback):
        def on_train_epoch_start(self, trainer, module):
            self.before = [[p.detach().clone() for p in g] for g in groups]

        def on_train_batch_start(self, trainer, module, batch, batch_idx):
            if batch_idx == 0:
                trainable.append([all(p.requires_grad for p in g) for g in groups])

        def on_train_epoch_end(self, trainer, module):
            changed.append(
                [
                    any(not torch.equal(a, p) for a, p in zip(b, g))
                    for b, g in zip(self.before, groups)
                ]
            )

    trainer = pl.Trainer(
        default_root_dir=tmp_path,  # the model folder written at the end of fit goes there
        max_epochs=3,
        limit_train_batches=3,
        limit_val_batches=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[GradualUnfreezing(groups=[1, 3, None], epochs=[1, 1]), Record()],
    )
    trainer.fit(task, dm)
    assert trainer.callback_metrics["trainable_groups"] == 5  # logged: all in the last epoch
    expected = [
        [False, False, False, False, True],
        [False, False, True, True, True],
        [True, True, True, True, True],
    ]
    assert trainable == expected
    assert changed == expected  # frozen groups do not move (weight decay or not)


def _unfreezing_fit(tmp_path, callbacks, max_epochs=3, ckpt_path=None, lrs=None):
    """A tiny classifier fit with per-stage gradual unfreezing; returns the task."""
    pl.seed_everything(0)
    dm = EmbeddedClassificationDataModule(num_docs=200, cache_dir=str(tmp_path), batch_size=16)
    network = AWDLSTMClassifier(dm.vocab_size, 2, embed_dim=8, hidden_dim=12, bptt=16)
    task = TextClassifierTask(
        network,
        optimizer=lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.01),
        lr_decay=2.6,
        early_stopping_patience=None,
    )
    stages = GradualUnfreezing(groups=[1, 2, None], epochs=[1, 1], lrs=lrs or [0.02, 0.01, 0.005])
    trainer = pl.Trainer(
        default_root_dir=tmp_path,
        max_epochs=max_epochs,
        limit_train_batches=4,
        limit_val_batches=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[stages, *callbacks],
    )
    trainer.fit(task, dm, ckpt_path=ckpt_path)
    return task


def test_each_unfreezing_stage_runs_its_own_slanted_triangular_cycle(tmp_path):
    rates = []

    class Record(pl.Callback):
        def on_before_optimizer_step(self, trainer, module, optimizer):
            rates.append([g["lr"] for g in optimizer.param_groups])

    _unfreezing_fit(tmp_path, [Record()], max_epochs=4)
    top = [r[-1] for r in rates]  # 4 steps an epoch; stages of 1, 1 and 2 epochs
    peaks = [0.02, 0.01, 0.005]
    for stage, (first, last) in enumerate([(0, 4), (4, 8), (8, 16)]):
        assert top[first] == pytest.approx(peaks[stage] / 32)  # each stage restarts low
        assert max(top[first:last]) == pytest.approx(peaks[stage])
    for row in rates:  # the discriminative ratios hold throughout
        assert row == pytest.approx([row[-1] / 2.6 ** (4 - i) for i in range(5)])


def test_gradual_unfreezing_resumed_mid_epoch_ends_as_the_uninterrupted_run(tmp_path):
    ckpt = tmp_path / "mid.ckpt"

    class SaveMidEpoch(pl.Callback):
        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
            if trainer.current_epoch == 1 and batch_idx == 1:  # inside the second stage
                trainer.save_checkpoint(ckpt)

    whole = _unfreezing_fit(tmp_path / "a", [SaveMidEpoch()])
    resumed = _unfreezing_fit(tmp_path / "b", [], ckpt_path=str(ckpt))
    for name, value in whole.state_dict().items():
        assert torch.equal(resumed.state_dict()[name], value), name


def test_adamw_groups_carry_decoupled_weight_decay():
    task = _classifier(
        lr_decay=2.6, optimizer=lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.01)
    )
    optimizer = task.configure_optimizers()
    assert isinstance(optimizer, torch.optim.AdamW)
    assert [g["weight_decay"] for g in optimizer.param_groups] == [0.01] * 5
    # decoupled: with a zero gradient, Adam's L2 leaves a weight alone, AdamW shrinks it
    weight = torch.nn.Parameter(torch.ones(3))
    adamw = torch.optim.AdamW([weight], lr=0.1, weight_decay=0.5)
    weight.grad = torch.zeros(3)
    adamw.step()
    assert torch.allclose(weight, torch.full((3,), 1 - 0.1 * 0.5))


def _fake_trainer(value, step):
    return SimpleNamespace(
        sanity_checking=False, callback_metrics={"val/loss": torch.tensor(value)}, global_step=step
    )


def test_nt_asgd_switches_after_nonmono_worse_checks_and_evaluates_the_average():
    module = LanguageModelTask(LSTMLanguageModel(10, 4, 4, 1, 0.0))
    callback = NTASGD(nonmono=2)
    callback.setup(None, module, "fit")
    for step, loss in enumerate([5.0, 4.0, 3.0, 3.5]):  # 3.5 is not worse than min(5.0)
        callback.on_validation_epoch_end(_fake_trainer(loss, step), module)
    assert not callback.averaging
    callback.on_validation_epoch_end(_fake_trainer(4.5, 10), module)  # worse than min(5, 4)
    assert callback.averaging and callback.triggered_at == 10
    weight = module.network.decoder.weight
    snapshots = []
    for value in (1.0, 2.0, 6.0):
        with torch.no_grad():
            weight.fill_(value)
        snapshots.append(weight.detach().clone())
        callback.on_train_batch_end(None, module)
    average = torch.stack(snapshots).mean(dim=0)
    callback.on_validation_epoch_start(None, module)
    assert torch.allclose(weight, average)  # validation sees the average
    checkpoint = {"state_dict": {k: v.clone() for k, v in module.state_dict().items()}}
    callback.on_validation_end(None, module)
    assert torch.equal(weight, snapshots[-1])  # training goes on from the raw weights
    callback.on_save_checkpoint(None, module, checkpoint)
    assert torch.allclose(checkpoint["state_dict"]["network.embedding.weight"], average)
    reloaded = LanguageModelTask(LSTMLanguageModel(10, 4, 4, 1, 0.0))
    reloaded.load_state_dict(checkpoint["state_dict"])  # the tied decoder's key is loaded last
    assert torch.allclose(reloaded.network.decoder.weight, average)
    assert torch.equal(callback.state_dict()["raw"]["network.embedding.weight"], snapshots[-1])
    callback.on_fit_end(None, module)
    assert torch.allclose(weight, average)  # the trained model is the average


def test_nt_asgd_resume_restores_the_raw_weights():
    module = LanguageModelTask(LSTMLanguageModel(10, 4, 4, 1, 0.0))
    callback = NTASGD()
    callback.setup(None, module, "fit")
    raw = {n: torch.full_like(p, 7.0) for n, p in module.named_parameters()}
    callback.load_state_dict(
        {"history": [1.0], "triggered_at": 3, "num_averaged": 2, "average": {}, "raw": raw}
    )
    callback.on_train_start(None, module)
    assert all(torch.all(p == 7.0) for p in module.parameters())
    assert callback.averaging and callback.num_averaged == 2


def _nt_asgd_fit(corpus, folder, callbacks, ckpt_path=None):
    """A tiny LSTM LM fit with NT-ASGD averaging from the first step, validating twice an
    epoch, best and last checkpoints in `folder`; returns the task and the NT-ASGD callback."""
    from pytorch_lightning.callbacks import ModelCheckpoint

    from lightning_nlp.data.lm.datamodule import TextFilesLMDataModule

    pl.seed_everything(0)
    dm = TextFilesLMDataModule(
        str(corpus), batch_size=4, eval_batch_size=2, bptt=8, cache_dir=str(folder / "cache")
    )
    task = LanguageModelTask(
        LSTMLanguageModel(dm.vocab_size, 16, 16, 1, 0.2),
        optimizer=lambda p: torch.optim.SGD(p, lr=1.0),
    )
    averaging = NTASGD()
    averaging.triggered_at = 0  # averaging from the first step on
    best = ModelCheckpoint(dirpath=folder, filename="best-{step}", monitor="val/loss")
    trainer = pl.Trainer(
        default_root_dir=folder,
        max_epochs=2,
        val_check_interval=0.5,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[averaging, best, *callbacks],
    )
    trainer.fit(task, dm, ckpt_path=ckpt_path)
    return task, averaging, best


def test_nt_asgd_best_checkpoint_holds_the_average_and_a_mid_epoch_resume_ends_the_same(
    tiny_corpus, tmp_path
):
    ckpt = tmp_path / "mid.ckpt"
    averages, raws = {}, {}

    class Watch(pl.Callback):
        def on_validation_end(self, trainer, module):  # after the checkpoint callbacks
            state = {k: v.clone() for k, v in trainer.callbacks[0].average.items()}
            averages[trainer.global_step] = state  # NT-ASGD has swapped the raw weights back
            raws[trainer.global_step] = {n: p.clone() for n, p in module.named_parameters()}

        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
            if trainer.current_epoch == 1 and batch_idx == 1:
                trainer.save_checkpoint(ckpt)

    whole, averaging, best = _nt_asgd_fit(tiny_corpus, tmp_path / "a", [Watch()])
    saved = torch.load(best.best_model_path, weights_only=True)
    step = saved["global_step"]
    assert averaging.num_averaged >= step > 0 and step in averages
    for name, value in averages[step].items():  # the average at that step, not the raw weights
        assert torch.equal(saved["state_dict"][name], value), name
    assert any(not torch.equal(saved["state_dict"][n], v) for n, v in raws[step].items())

    resumed, _, _ = _nt_asgd_fit(tiny_corpus, tmp_path / "b", [], ckpt_path=str(ckpt))
    for name, value in whole.state_dict().items():
        assert torch.equal(resumed.state_dict()[name], value), name
