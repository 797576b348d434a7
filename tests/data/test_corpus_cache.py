import numpy as np
import pytest
import pytorch_lightning as pl

import lightning_nlp.data.text.token_cache as token_cache
from lightning_nlp.data.lm.datamodule import TextFilesLMDataModule
from lightning_nlp.data.text.io import CorpusError
from lightning_nlp.nn.lstm_lm import LSTMLanguageModel
from lightning_nlp.tasks.language_model import LanguageModelTask


def _dm(folder, cache, **kwargs):
    return TextFilesLMDataModule(str(folder), cache_dir=str(cache), **kwargs)


def test_numericalises_with_eos_and_train_vocab(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "train.txt").write_text("a b\nb c\n")
    (folder / "valid.txt").write_text("a z\n")
    (folder / "test.txt").write_text("c\n")
    dm = _dm(folder, tmp_path / "cache")
    assert "z" not in dm.vocab
    assert dm.vocab.decode(dm.stream("train")) == ["a", "b", "<eos>", "b", "c", "<eos>"]
    assert dm.vocab.decode(dm.stream("valid")) == ["a", "<unk>", "<eos>"]


def test_second_run_reads_the_cache(tiny_corpus, tmp_path, monkeypatch):
    first = _dm(tiny_corpus, tmp_path / "cache")
    first.prepare_data()
    fingerprint = first.provenance()["data/corpus_fingerprint"]

    def no_tokenising(*args, **kwargs):
        raise AssertionError("tokenised again")

    monkeypatch.setattr(token_cache, "_tokenize", no_tokenising)
    second = _dm(tiny_corpus, tmp_path / "cache")
    second.prepare_data()
    assert second.provenance()["data/corpus_fingerprint"] == fingerprint
    assert np.array_equal(second.stream("train"), first.stream("train"))
    # vocabulary settings reuse the token tables but change the fingerprint
    smaller = _dm(tiny_corpus, tmp_path / "cache", max_vocab=8)
    smaller.prepare_data()
    assert len(smaller.vocab) == 8
    assert smaller.provenance()["data/corpus_fingerprint"] != fingerprint
    # a changed file is tokenised again
    (tiny_corpus / "test.txt").write_text("new text\n")
    with pytest.raises(AssertionError, match="tokenised again"):
        _dm(tiny_corpus, tmp_path / "cache").prepare_data()


def test_bad_files_are_named(tiny_corpus, tmp_path):
    (tiny_corpus / "valid.txt").write_bytes(b"ok\n\xff\xfe bad\n")
    with pytest.raises(CorpusError, match=r"valid.txt:2: not valid utf-8"):
        _dm(tiny_corpus, tmp_path / "cache").prepare_data()
    (tiny_corpus / "valid.txt").write_text("")
    with pytest.raises(CorpusError, match="valid.txt: file is empty"):
        _dm(tiny_corpus, tmp_path / "cache").prepare_data()
    (tiny_corpus / "valid.txt").unlink()
    with pytest.raises(CorpusError, match="valid.txt: file not found"):
        _dm(tiny_corpus, tmp_path / "cache").prepare_data()


def test_evaluation_with_a_saved_vocabulary_never_reads_the_training_file(tiny_corpus, tmp_path):
    trained = _dm(tiny_corpus, tmp_path / "cache")
    trained.save_artifacts(tmp_path / "run")
    (tiny_corpus / "train.txt").unlink()
    dm = _dm(tiny_corpus, tmp_path / "cache", vocab_path=str(tmp_path / "run" / "vocab.json"))
    trainer = pl.Trainer(logger=False, enable_progress_bar=False, enable_model_summary=False)
    trainer.test(
        LanguageModelTask(LSTMLanguageModel(dm.vocab_size, 8, 8, 1, 0.0)), dm, verbose=False
    )
    dm.setup("test")
    assert dm.vocab.itos == trained.vocab.itos
    assert len(dm.test_dataloader()) > 0
    with pytest.raises(CorpusError, match="train.txt: file not found"):
        dm.setup("fit")
