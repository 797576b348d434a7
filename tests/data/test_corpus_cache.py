import numpy as np
import pytest

import lightning_nlp.data.token_cache as token_cache
from lightning_nlp.data.corpus_cache import load_lm_corpus
from lightning_nlp.data.io import CorpusError


def _files(folder):
    return {s: folder / f"{s}.txt" for s in ("train", "valid", "test")}


def test_numericalises_with_eos_and_train_vocab(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "train.txt").write_text("a b\nb c\n")
    (folder / "valid.txt").write_text("a z\n")
    (folder / "test.txt").write_text("c\n")
    corpus = load_lm_corpus(_files(folder), cache_dir=tmp_path / "cache")
    vocab = corpus.vocab
    assert "z" not in vocab
    assert vocab.decode(corpus.streams["train"]) == ["a", "b", "<eos>", "b", "c", "<eos>"]
    assert vocab.decode(corpus.streams["valid"]) == ["a", "<unk>", "<eos>"]


def test_second_run_reads_the_cache(tiny_corpus, tmp_path, monkeypatch):
    first = load_lm_corpus(_files(tiny_corpus), cache_dir=tmp_path / "cache")

    def no_tokenising(*args, **kwargs):
        raise AssertionError("tokenised again")

    monkeypatch.setattr(token_cache, "_tokenize", no_tokenising)
    second = load_lm_corpus(_files(tiny_corpus), cache_dir=tmp_path / "cache")
    assert second.fingerprint == first.fingerprint
    assert np.array_equal(second.streams["train"], first.streams["train"])
    # vocabulary settings reuse the token tables but change the fingerprint
    smaller = load_lm_corpus(_files(tiny_corpus), max_vocab=8, cache_dir=tmp_path / "cache")
    assert len(smaller.vocab) == 8 and smaller.fingerprint != first.fingerprint
    # a changed file is tokenised again
    (tiny_corpus / "test.txt").write_text("new text\n")
    with pytest.raises(AssertionError, match="tokenised again"):
        load_lm_corpus(_files(tiny_corpus), cache_dir=tmp_path / "cache")


def test_bad_files_are_named(tiny_corpus, tmp_path):
    (tiny_corpus / "valid.txt").write_bytes(b"ok\n\xff\xfe bad\n")
    with pytest.raises(CorpusError, match=r"valid.txt:2: not valid utf-8"):
        load_lm_corpus(_files(tiny_corpus), cache_dir=tmp_path / "cache")
    (tiny_corpus / "valid.txt").write_text("")
    with pytest.raises(CorpusError, match="valid.txt: file is empty"):
        load_lm_corpus(_files(tiny_corpus), cache_dir=tmp_path / "cache")
    (tiny_corpus / "valid.txt").unlink()
    with pytest.raises(CorpusError, match="valid.txt: file not found"):
        load_lm_corpus(_files(tiny_corpus), cache_dir=tmp_path / "cache")
