import numpy as np
import pytest
import torch

from lightning_nlp.data.lm.stream import BPTTSampler, LMStream, bptt_windows


def _epoch(stream, sampler):
    return [stream[w] for w in sampler]


@pytest.mark.parametrize("variable", [False, True])
def test_every_token_once_and_targets_shifted(variable):
    ids = np.arange(1003)
    stream = LMStream(ids, batch_size=4)
    batches = _epoch(stream, BPTTSampler(stream, bptt=7, variable=variable, seed=3))
    inputs = torch.cat([x for x, _ in batches], dim=1)  # (B, R - 1)
    targets = torch.cat([y for _, y in batches], dim=1)
    assert torch.equal(targets[:, :-1], inputs[:, 1:])
    row_len = 1003 // 4
    expected = torch.arange(4 * row_len).view(4, row_len)
    assert torch.equal(inputs, expected[:, :-1]) and torch.equal(targets, expected[:, 1:])


def test_backwards_stream_reads_right_to_left():
    stream = LMStream(np.arange(20), batch_size=2, backwards=True)
    x, y = stream[(0, 3)]
    assert x[0].tolist() == [19, 18, 17] and y[0].tolist() == [18, 17, 16]


def test_variable_lengths_within_bounds_and_reseeded_per_epoch():
    rng = np.random.default_rng(0)
    windows = bptt_windows(100_000, bptt=70, variable=True, rng=rng)
    lengths = np.array([n for _, n in windows[:-1]])
    assert lengths.min() >= 5 and lengths.max() <= 70 + 6 * 5
    short = (lengths < 50).mean()
    assert 0.02 < short < 0.09  # about 5% of windows centre on bptt / 2
    stream = LMStream(np.arange(5000), batch_size=2)
    sampler = BPTTSampler(stream, bptt=35, variable=True, seed=1)
    first = list(sampler)
    assert list(sampler) == first
    sampler.set_epoch(1)
    assert list(sampler) != first


def test_ddp_shards_are_disjoint_and_contiguous():
    ids = np.arange(1000)
    shards = [LMStream(ids, batch_size=3, rank=r, world_size=2).rows for r in range(2)]
    flat = torch.cat(shards).flatten().tolist()
    assert len(set(flat)) == len(flat) == 6 * (1000 // 6)
    assert flat == sorted(flat)


def test_too_short_stream_is_an_error():
    with pytest.raises(ValueError, match="too short"):
        LMStream(np.arange(5), batch_size=4)
