import numpy as np
import pytest

import lightning_nlp.data.token_cache as token_cache
from lightning_nlp.data.token_cache import tokenize_cached
from lightning_nlp.data.tokenize import get_tokenizer
from lightning_nlp.data.vocab import Vocab

TEXTS = [f"Doc {i % 37} is HERE and {'very ' * (i % 3)}long" for i in range(3000)] + ["", "x"]


@pytest.mark.parametrize("workers", [1, 2])
def test_table_holds_every_document_in_order(workers, tmp_path):
    table = tokenize_cached(TEXTS, "ulmfit", tmp_path, workers=workers)
    tokenizer = get_tokenizer("ulmfit")
    assert len(table) == len(TEXTS)
    assert all(table.document(i) == tokenizer(t) for i, t in enumerate(TEXTS))
    assert len(set(table.types)) == len(table.types)


def test_counts_and_numericalize(tmp_path):
    table = tokenize_cached(["a b a", "c a"], "whitespace", tmp_path)
    assert table.counts() == {"a": 3, "b": 1, "c": 1}
    vocab = Vocab.build(table.counts(), max_size=5)  # keeps only "a"
    assert vocab.decode(table.numericalize(vocab)) == ["a", "<unk>", "a", "<unk>", "a"]
    assert table.offsets.tolist() == [0, 3, 5]


def test_cache_hit_and_keys(tmp_path, monkeypatch):
    first = tokenize_cached(TEXTS, "ulmfit", tmp_path)

    def no_tokenising(*args, **kwargs):
        raise AssertionError("tokenised again")

    monkeypatch.setattr(token_cache, "_tokenize", no_tokenising)
    again = tokenize_cached(TEXTS, "ulmfit", tmp_path)
    assert again.types == first.types and np.array_equal(again.ids, first.ids)
    with pytest.raises(AssertionError):
        tokenize_cached(TEXTS, "whitespace", tmp_path)  # another tokeniser
    with pytest.raises(AssertionError):
        tokenize_cached(TEXTS[:-1], "ulmfit", tmp_path)  # other texts
