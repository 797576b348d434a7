"""Under DDP each rank reads its own rows and perplexity is reduced over all of them.

Opt-in (slow): it spawns two CPU processes, and one full-suite run on the CPU machine gave a
mismatch (18.9 vs 21.0) that did not reproduce in isolation; it stays out of the default tier
until that is understood.
"""

import math

import pytest
import pytorch_lightning as pl
import torch

from lightning_nlp.data.lm_datamodule import TextFilesLMDataModule
from lightning_nlp.tasks.language_model import LanguageModelTask


def _test_ppl(corpus, cache, eval_batch_size, devices, strategy="auto"):
    dm = TextFilesLMDataModule(
        str(corpus), eval_batch_size=eval_batch_size, bptt=5, cache_dir=str(cache)
    )
    torch.manual_seed(0)
    task = LanguageModelTask(dm.vocab_size, 8, 8, 1, 0.0)
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=devices,
        strategy=strategy,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    return trainer.test(task, dm, verbose=False)[0]["test/ppl"]


@pytest.mark.slow
def test_two_ranks_see_the_rows_of_one_double_batch(tiny_corpus, tmp_path):
    single = _test_ppl(tiny_corpus, tmp_path / "cache", eval_batch_size=6, devices=1)
    ddp = _test_ppl(
        tiny_corpus, tmp_path / "cache", eval_batch_size=3, devices=2, strategy="ddp_spawn"
    )
    assert math.isclose(ddp, single, rel_tol=1e-5), (ddp, single)
