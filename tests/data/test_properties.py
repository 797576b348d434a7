"""Property-based tests (hypothesis) of the tokenisers, vocabularies, BPTT streams and samplers:
what must hold for any input, not only for the examples the other tests pick."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lightning_nlp.data.classification.dataset import SortishBatchSampler
from lightning_nlp.data.lm.stream import BPTTSampler, LMStream, bptt_windows
from lightning_nlp.data.text.io import split_lines
from lightning_nlp.data.text.tokenize import get_tokenizer
from lightning_nlp.data.text.vocab import SPECIALS, Vocab

settings.register_profile("project", max_examples=60, deadline=None)
settings.load_profile("project")

any_text = st.text(st.characters(codec="utf-8"), max_size=200)
words = st.lists(st.text(st.characters(codec="utf-8"), min_size=1, max_size=8), max_size=50)


@pytest.mark.parametrize("name", ["whitespace", "sst", "nltk", "ulmfit"])
@given(text=any_text)
def test_tokenisers_give_non_empty_tokens_without_spaces(name, text):
    tokens = get_tokenizer(name)(text)
    assert all(isinstance(t, str) and t and not t.isspace() for t in tokens)
    assert not any(" " in t or "\n" in t for t in tokens)
    if not text.strip():  # only ULMFiT's tokeniser marks every document's start
        assert tokens == (["<bos>"] if name == "ulmfit" else [])


@given(text=any_text)
def test_whitespace_tokens_are_the_text_split(text):
    assert get_tokenizer("whitespace")(text) == text.split()


@given(
    lines=st.lists(st.text(st.characters(codec="utf-8", exclude_characters="\r\n")), max_size=20)
)
def test_lines_end_at_newlines_only(lines):
    text = "".join(line + "\n" for line in lines)
    assert split_lines(text) == lines
    assert split_lines(text.replace("\n", "\r\n")) == lines


@given(docs=st.lists(words, max_size=10), max_size=st.none() | st.integers(len(SPECIALS), 40))
def test_vocab_round_trips_and_is_independent_of_document_order(tmp_path_factory, docs, max_size):
    vocab = Vocab.build(docs, max_size=max_size)
    assert Vocab.build(docs[::-1], max_size=max_size).itos == vocab.itos
    assert max_size is None or len(vocab) <= max_size
    for doc in docs:
        decoded = vocab.decode(vocab.encode(doc))
        assert len(decoded) == len(doc)
        assert [d if t in vocab else "<unk>" for t, d in zip(doc, decoded)] == decoded
        assert all(d == t for t, d in zip(doc, decoded) if t in vocab)
    path = tmp_path_factory.mktemp("vocab") / "vocab.json"
    vocab.save(path)
    loaded = Vocab.load(path)
    assert loaded.itos == vocab.itos and loaded.fingerprint == vocab.fingerprint


@given(
    n=st.integers(4, 400),
    batch=st.integers(1, 6),
    bptt=st.integers(1, 30),
    variable=st.booleans(),
    seed=st.integers(0, 3),
)
def test_bptt_windows_cover_every_position_once_in_order(n, batch, bptt, variable, seed):
    if n // batch < 2:
        with pytest.raises(ValueError, match="too short"):
            LMStream(np.arange(n), batch)
        return
    stream = LMStream(np.arange(n), batch)
    windows = bptt_windows(stream.row_len, bptt, variable, np.random.default_rng(seed))
    starts = [s for s, _ in windows]
    assert starts == sorted(starts) and all(length >= 1 for _, length in windows)
    covered = [s + i for s, length in windows for i in range(length)]
    assert covered == list(range(stream.row_len - 1))
    for window in windows:  # the target is the input shifted by one, within each row
        inputs, targets = stream[window]
        assert (targets == inputs + 1).all()


@given(n=st.integers(40, 400), batch=st.integers(1, 4), world=st.integers(1, 3))
def test_lm_ranks_read_disjoint_rows_of_equal_length(n, batch, world):
    if n // (batch * world) < 2:
        return
    streams = [LMStream(np.arange(n), batch, r, world) for r in range(world)]
    rows = [row for s in streams for row in s.rows.tolist()]
    flat = [t for row in rows for t in row]
    assert len(flat) == len(set(flat))  # no token read twice
    assert len({len(row) for row in rows}) == 1
    assert n - len(flat) < batch * world  # only the tail that fills no row is dropped


@given(
    lengths=st.lists(st.integers(1, 50), min_size=1, max_size=80),
    batch=st.integers(1, 9),
    world=st.integers(1, 3),
    epoch=st.integers(0, 3),
)
def test_evaluation_batches_count_every_document_once_over_ranks(lengths, batch, world, epoch):
    if len(lengths) < world:
        with pytest.raises(ValueError, match="cannot be shared"):
            SortishBatchSampler(lengths, batch, False, world_size=world).batches()
        return
    seen = []
    for rank in range(world):
        sampler = SortishBatchSampler(lengths, batch, False, rank=rank, world_size=world)
        sampler.set_epoch(epoch)
        batches = list(sampler)
        assert len(batches) == len(sampler) and all(0 < len(b) <= batch for b in batches)
        seen += [i for b in batches for i in b]
    assert sorted(seen) == list(range(len(lengths)))


@given(
    lengths=st.lists(st.integers(1, 50), min_size=1, max_size=80),
    batch=st.integers(1, 9),
    world=st.integers(1, 3),
    seed=st.integers(0, 3),
)
def test_training_batches_cover_every_document_with_equal_steps_per_rank(
    lengths, batch, world, seed
):
    if len(lengths) < world:
        with pytest.raises(ValueError, match="cannot be shared"):
            SortishBatchSampler(lengths, batch, True, seed, world_size=world).batches()
        return
    per_rank = []
    for rank in range(world):
        sampler = SortishBatchSampler(lengths, batch, True, seed, rank, world)
        batches = list(sampler)
        assert len(batches) == len(sampler)
        assert batches == list(sampler)  # the same epoch, the same order
        per_rank.append(batches)
    assert len({len(b) for b in per_rank}) == 1  # every rank runs the same number of steps
    seen = {i for batches in per_rank for b in batches for i in b}
    assert seen == set(range(len(lengths)))


@given(
    lengths=st.lists(st.integers(1, 50), min_size=2, max_size=80),
    batch=st.integers(1, 9),
    world=st.integers(2, 3),
    seed=st.integers(0, 3),
)
def test_ranks_split_the_steps_of_one_process_with_a_batch_as_big_as_theirs_together(
    lengths, batch, world, seed
):
    """DDP with batch B trains on one process's batches of B * world: each step's documents
    are shared out, and the loss scales make the mean of the ranks' means the step's mean."""
    if len(lengths) < world:
        return
    one = SortishBatchSampler(lengths, batch * world, True, seed).batches()
    ranks = [
        SortishBatchSampler(lengths, batch, True, seed, r, world).batches() for r in range(world)
    ]
    tail = len(lengths) % (batch * world)
    if 0 < tail < world and len(one) > 1:  # the short last batch joined the one before it
        return
    for step, whole in enumerate(one):
        shares = [r[step] for r in ranks]
        assert sorted(i for share in shares for i in share) == sorted(whole)
        for share in shares:  # DDP averages the ranks' gradients: each document weighs 1/N
            assert share.loss_scale / (world * len(share)) == pytest.approx(1 / len(whole))


@given(n=st.integers(20, 300), bptt=st.integers(3, 20), seed=st.integers(0, 5))
def test_variable_bptt_schedule_is_a_function_of_seed_and_epoch(n, bptt, seed):
    stream = LMStream(np.arange(n), 1)
    a, b = BPTTSampler(stream, bptt, True, seed), BPTTSampler(stream, bptt, True, seed)
    assert list(a) == list(b)
    b.set_epoch(1)
    schedule = list(b)
    b.set_epoch(0)
    assert list(b) == list(a)  # epoch 0 again: the same windows (exact resume)
    assert sum(length for _, length in schedule) == stream.row_len - 1
