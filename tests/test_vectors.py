from collections import Counter

import numpy as np
import pytest
import torch
from gensim.models import FastText, KeyedVectors

from lightning_nlp.data.text.io import CorpusError
from lightning_nlp.data.text.vocab import Vocab
from lightning_nlp.weights.vectors import (
    build_embedding_matrix,
    guess_format,
    load_vectors,
    train_vectors,
)

WORDS = ["the", "cat", "sat", "mat"]


def _kv(dim=4):
    kv = KeyedVectors(dim)
    kv.add_vectors(WORDS, np.arange(len(WORDS) * dim, dtype=np.float32).reshape(len(WORDS), dim))
    return kv


@pytest.mark.parametrize("name,binary", [("w2v.txt", False), ("w2v.bin", True), ("ft.vec", False)])
def test_word2vec_formats_round_trip(tmp_path, name, binary):
    _kv().save_word2vec_format(str(tmp_path / name), binary=binary)
    loaded = load_vectors(str(tmp_path / name))
    assert guess_format(tmp_path / name) == ("word2vec_bin" if binary else "word2vec")
    assert np.allclose(loaded["sat"], _kv()["sat"])


def test_glove_has_no_header(tmp_path):
    path = tmp_path / "glove.6B.4d.txt"
    path.write_text("".join(f"{w} {' '.join(map(str, _kv()[w]))}\n" for w in WORDS))
    assert guess_format(path) == "glove"
    assert np.allclose(load_vectors(str(path))["mat"], _kv()["mat"])


def test_fasttext_bin_gives_subword_vectors_for_unknown_words(tmp_path):
    from gensim.models.fasttext import save_facebook_model

    sentences = [["the", "cat", "sat", "on", "the", "mat"], ["cats", "sit", "on", "mats"]] * 20
    model = FastText(sentences, vector_size=8, min_count=1, epochs=2, seed=0, workers=1)
    save_facebook_model(model, str(tmp_path / "tiny.bin"))
    vectors = load_vectors(str(tmp_path / "tiny.bin"))
    assert guess_format(tmp_path / "tiny.bin") == "fasttext_bin"
    vocab = Vocab.build([["cat", "catz"]])
    matrix, coverage = build_embedding_matrix(vectors, vocab, 8)
    assert coverage.types_found == 2 and coverage.from_subwords == 1
    assert torch.allclose(matrix[vocab.stoi["catz"]], torch.from_numpy(vectors["catz"]))


def test_matrix_and_coverage():
    vocab = Vocab.build([["the", "the", "the", "cat", "dog", "The"]])
    counts = Counter({"the": 3, "cat": 1, "dog": 1, "The": 1})
    matrix, coverage = build_embedding_matrix(_kv(), vocab, 4, counts)
    assert matrix.shape == (len(vocab), 4)
    assert torch.equal(matrix[vocab.pad_id], torch.zeros(4))
    assert torch.allclose(
        matrix[vocab.stoi["The"]], torch.from_numpy(_kv()["the"])
    )  # lower-cased match
    assert (coverage.types_found, coverage.types_total) == (3, 4)
    assert coverage.token_coverage == pytest.approx(5 / 6)


def test_dimension_mismatch_and_missing_file(tmp_path):
    with pytest.raises(CorpusError, match="dimension 4 but the model's embed_dim is 300"):
        build_embedding_matrix(_kv(), Vocab.build([["cat"]]), 300)
    with pytest.raises(CorpusError, match="nothing.vec: word-vector file not found"):
        load_vectors(str(tmp_path / "nothing.vec"))


def test_downloader_name_offline_says_which_file_to_pass(monkeypatch):
    import gensim.downloader

    def offline(name):
        raise ConnectionError("no network")

    monkeypatch.setattr(gensim.downloader, "load", offline)
    with pytest.raises(CorpusError, match="glove-wiki-gigaword-300.*pass the file instead"):
        load_vectors("glove-wiki-gigaword-300")


def test_train_word2vec_and_fasttext():
    docs = [["good", "film"], ["bad", "film"], ["good", "plot"], ["bad", "plot"]] * 30
    for model in ("word2vec", "fasttext"):
        vectors = train_vectors(docs, model, dim=8, min_count=1, epochs=2, workers=1)
        assert vectors.vector_size == 8 and "film" in vectors.key_to_index
