"""TimeBudget: a run planned to its wall-clock budget, with the schedule fitted to the plan."""

import pytest
import pytorch_lightning as pl
import torch

from lightning_nlp.data.synthetic.embedded import EmbeddedClassificationDataModule
from lightning_nlp.nn.text_classifiers import AveragedEmbeddingClassifier
from lightning_nlp.tasks.text_classifier import TextClassifierTask
from lightning_nlp.training.callbacks.time_budget import TimeBudget
from lightning_nlp.training.schedules import SlantedTriangularLR


class FakeClock(pl.Callback):
    """A clock that a training step advances by `tick` seconds, a validation batch by half."""

    def __init__(self, tick: float) -> None:
        self.now, self.tick = 0.0, tick

    def __call__(self) -> float:
        return self.now

    def on_train_batch_start(self, *args):
        self.now += self.tick

    def on_validation_batch_start(self, *args):
        self.now += self.tick / 2


def _fit(tmp_path, budget, callbacks=(), ckpt_path=None, tick=1.0):
    budget._clock = clock = FakeClock(tick)
    pl.seed_everything(0)
    dm = EmbeddedClassificationDataModule(num_docs=200, cache_dir=str(tmp_path), batch_size=8)
    task = TextClassifierTask(
        AveragedEmbeddingClassifier(dm.vocab_size, 8, 2),
        optimizer=lambda p: torch.optim.SGD(p, lr=0.1),
        lr_scheduler=lambda o: SlantedTriangularLR(o),
        early_stopping_patience=None,
    )
    rates = []

    class Record(pl.Callback):
        def on_before_optimizer_step(self, trainer, module, optimizer):
            rates.append(optimizer.param_groups[0]["lr"])

    trainer = pl.Trainer(
        default_root_dir=tmp_path,
        max_epochs=-1,
        val_check_interval=10,
        limit_val_batches=2,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        callbacks=[clock, budget, Record(), *callbacks],
    )
    trainer.fit(task, dm, ckpt_path=ckpt_path)
    return trainer, task, rates


def test_the_run_stops_at_its_plan_with_the_schedule_ended(tmp_path):
    budget = TimeBudget(minutes=1.0, warmup_steps=5)
    trainer, _, rates = _fit(tmp_path, budget)
    assert budget.planned_steps is not None
    assert trainer.global_step == budget.planned_steps
    assert 40 < budget.planned_steps < 60  # 60 s at a second a step, less validation
    schedule = trainer.lr_scheduler_configs[0].scheduler
    assert schedule.total_steps == budget.planned_steps
    assert rates[-1] < 2 * 0.1 / 32  # the last step is one before the floor
    assert max(rates[:5]) == pytest.approx(0.1 / 32)  # the warm-up before the plan: lowest rate
    peak = max(range(len(rates)), key=rates.__getitem__)
    assert rates[peak] == pytest.approx(0.1, rel=0.2)
    assert abs(peak - 0.1 * budget.planned_steps) <= 2  # the planned cycle's peak, at cut_frac


def test_a_resumed_run_keeps_the_plan_and_ends_as_the_whole_run(tmp_path):
    ckpt = tmp_path / "mid.ckpt"

    class SaveAt(pl.Callback):
        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
            if trainer.global_step == 15:
                trainer.save_checkpoint(ckpt)

    whole_budget = TimeBudget(minutes=1.0, warmup_steps=5)
    whole, whole_task, whole_rates = _fit(tmp_path / "a", whole_budget, [SaveAt()])
    resumed_budget = TimeBudget(minutes=1.0, warmup_steps=5)
    # on a machine ten times slower: the plan must not change
    resumed, task, rates = _fit(tmp_path / "b", resumed_budget, ckpt_path=str(ckpt), tick=10.0)
    assert resumed.global_step == whole.global_step
    assert rates == pytest.approx(whole_rates[15:])
    for name, value in whole_task.state_dict().items():
        assert torch.equal(task.state_dict()[name], value), name


def test_bad_budgets_are_refused():
    with pytest.raises(ValueError, match="minutes > 0"):
        TimeBudget(minutes=0)
