"""Under DDP each rank reads its own rows and perplexity is reduced over all of them."""

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
    with torch.no_grad():  # outputs far from uniform, so that every token counts
        for parameter in task.parameters():
            parameter.normal_(0, 1)
    trainer = pl.Trainer(
        accelerator="cpu",
        devices=devices,
        strategy=strategy,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        use_distributed_sampler=False,
    )
    return trainer.test(task, dm, verbose=False)[0]["test/ppl"]


@pytest.mark.integration
def test_two_ranks_see_the_rows_of_one_double_batch(tiny_corpus, tmp_path):
    single = _test_ppl(tiny_corpus, tmp_path / "cache", eval_batch_size=6, devices=1)
    ddp = _test_ppl(
        tiny_corpus, tmp_path / "cache", eval_batch_size=3, devices=2, strategy="ddp_spawn"
    )
    assert math.isclose(ddp, single, rel_tol=1e-5), (ddp, single)
    assert not math.isclose(single, 21, rel_tol=0.05)  # a model with something to get wrong
