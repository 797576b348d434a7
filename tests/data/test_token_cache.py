import numpy as np
import pytest

import lightning_nlp.data.text.token_cache as token_cache
from lightning_nlp.data.text.token_cache import tokenize_cached
from lightning_nlp.data.text.tokenize import get_tokenizer
from lightning_nlp.data.text.vocab import Vocab

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


def _cache_folder(tmp_path):
    (folder,) = tmp_path.glob("tokens-*")
    return folder


@pytest.mark.parametrize(
    "damage",
    [
        lambda f: f.write_bytes(f.read_bytes()[: len(f.read_bytes()) // 2]),  # truncated
        lambda f: f.write_bytes(f.read_bytes()[:-1] + bytes([f.read_bytes()[-1] ^ 1])),  # 1 bit
        lambda f: f.unlink(),  # half-deleted
    ],
    ids=["truncated", "one-bit", "missing"],
)
@pytest.mark.parametrize("name", ["ids.npy", "offsets.npy", "types.json", "checksums.json"])
def test_a_damaged_cache_is_rebuilt_never_used(tmp_path, damage, name):
    first = tokenize_cached(TEXTS, "ulmfit", tmp_path)
    damage(_cache_folder(tmp_path) / name)
    again = tokenize_cached(TEXTS, "ulmfit", tmp_path)
    assert again.types == first.types and np.array_equal(again.ids, first.ids)
    assert np.array_equal(again.offsets, first.offsets)
    rebuilt = token_cache._load(_cache_folder(tmp_path))  # the cache is whole again
    assert np.array_equal(rebuilt.ids, first.ids)


def _build(cache_dir, queue):
    table = tokenize_cached(TEXTS, "ulmfit", cache_dir, workers=1)
    queue.put((table.types, table.ids.tolist(), table.offsets.tolist()))


def test_two_processes_building_the_same_cache_both_get_correct_data(tmp_path):
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    builders = [context.Process(target=_build, args=(tmp_path, queue)) for _ in range(2)]
    for p in builders:
        p.start()
    results = [queue.get(timeout=120) for _ in builders]
    for p in builders:
        p.join(timeout=60)
        assert p.exitcode == 0
    expected = tokenize_cached(TEXTS, "ulmfit", tmp_path / "alone", workers=1)
    for types, ids, offsets in results:
        assert types == expected.types and ids == expected.ids.tolist()
        assert offsets == expected.offsets.tolist()
    assert len(list(tmp_path.glob("tokens-*"))) == 1  # one folder, no leftovers beside it
    assert not list(tmp_path.glob(".tokens-*"))
    cached = token_cache._load(_cache_folder(tmp_path))
    assert np.array_equal(cached.ids, expected.ids)
