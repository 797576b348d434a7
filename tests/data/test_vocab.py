from collections import Counter

import pytest

from lightning_nlp.data.text.io import CorpusError
from lightning_nlp.data.text.vocab import SPECIALS, Vocab

DOCS = [["b", "a", "c", "a"], ["c", "a", "d"]]


def test_specials_at_fixed_indices():
    vocab = Vocab.build(DOCS)
    assert vocab.itos[:4] == list(SPECIALS)
    assert (vocab.pad_id, vocab.unk_id, vocab.bos_id, vocab.eos_id) == (0, 1, 2, 3)


def test_order_by_count_then_alphabet_independent_of_document_order():
    vocab = Vocab.build(DOCS)
    assert vocab.itos[4:] == ["a", "c", "b", "d"]
    assert Vocab.build(DOCS[::-1]).itos == vocab.itos


def test_min_freq_and_max_size():
    assert Vocab.build(DOCS, min_freq=2).itos[4:] == ["a", "c"]
    vocab = Vocab.build(DOCS, max_size=6)
    assert len(vocab) == 6 and vocab.itos[4:] == ["a", "c"]
    with pytest.raises(ValueError, match="smaller than"):
        Vocab.build(DOCS, max_size=3)


def test_encode_decode_round_trip_and_unknown():
    vocab = Vocab.build(Counter({"x": 2, "y": 1}))
    assert vocab.decode(vocab.encode(["x", "y"])) == ["x", "y"]
    assert vocab.encode(["zzz"]) == [vocab.unk_id]
    assert vocab.encode(["<unk>"]) == [vocab.unk_id]


def test_save_load_json(tmp_path):
    vocab = Vocab.build(DOCS)
    vocab.save(tmp_path / "vocab.json")
    assert (tmp_path / "vocab.json").read_text().startswith('{"itos"')
    loaded = Vocab.load(tmp_path / "vocab.json")
    assert loaded.itos == vocab.itos and loaded.fingerprint == vocab.fingerprint


def test_bad_vocab_files(tmp_path):
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(CorpusError, match="bad.json"):
        Vocab.load(tmp_path / "bad.json")
    with pytest.raises(ValueError, match="start with"):
        Vocab(["a", "b"])
    with pytest.raises(ValueError, match="duplicate"):
        Vocab([*SPECIALS, "a", "a"])
