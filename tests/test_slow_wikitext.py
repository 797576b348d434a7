"""Real-corpus checks on ../shared/data/wikitext-2 (opt in with --runslow)."""

import pytest
import pytorch_lightning as pl
import torch

from lightning_nlp.data.lm.wikitext import WikiText2DataModule
from lightning_nlp.nn.lstm_lm import LSTMLanguageModel
from lightning_nlp.tasks.language_model import LanguageModelTask
from tests.conftest import shared_corpus


@pytest.mark.slow
def test_short_wikitext2_run_lowers_perplexity(tmp_path):
    data = shared_corpus("wikitext-2")
    dm = WikiText2DataModule(
        str(data),
        train_file="wiki.valid.tokens",
        val_file="wiki.test.tokens",
        test_file="wiki.test.tokens",
        cache_dir=str(tmp_path / "cache"),
    )
    assert 13_000 < dm.vocab_size < 15_000  # the valid file's word types + specials
    assert dm.vocab.unk_id in dm.stream("test")  # WikiText's own <unk>
    torch.manual_seed(0)
    task = LanguageModelTask(LSTMLanguageModel(dm.vocab_size, 128, 128, 2, 0.2))
    trainer = pl.Trainer(
        max_epochs=1,
        limit_train_batches=150,
        limit_test_batches=100,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        gradient_clip_val=0.25,
        enable_progress_bar=False,
    )
    before = trainer.test(task, dm, verbose=False)[0]["test/ppl"]
    trainer.fit(task, dm)
    after = trainer.test(task, dm, verbose=False)[0]["test/ppl"]
    assert before > 0.8 * dm.vocab_size and after < 0.2 * before
