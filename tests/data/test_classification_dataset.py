import numpy as np
import torch

from lightning_nlp.data.classification.dataset import ClassificationDataset, SortishBatchSampler

LENGTHS = np.random.default_rng(0).integers(1, 200, 1000)


def test_sortish_covers_every_example_once_and_longest_first():
    sampler = SortishBatchSampler(LENGTHS, batch_size=32, shuffle=True, seed=0)
    batches = sampler.batches()
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(1000)) and len(batches) == len(sampler)
    assert LENGTHS[batches[0]].max() == LENGTHS.max()
    spread = np.mean([LENGTHS[b].max() - LENGTHS[b].min() for b in batches])
    random_spread = np.mean(
        [
            LENGTHS[b].max() - LENGTHS[b].min()
            for b in np.array_split(np.random.default_rng(1).permutation(1000), 32)
        ]
    )
    assert spread < 0.1 * random_spread
    sampler.set_epoch(1)
    assert sampler.batches() != batches


def test_eval_order_is_sorted_by_length():
    batches = SortishBatchSampler(LENGTHS, 64, shuffle=False).batches()
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(1000))
    assert list(LENGTHS[flat]) == sorted(LENGTHS, reverse=True)


def test_ranks_get_disjoint_batches_and_equal_steps_in_training():
    shards = [
        SortishBatchSampler(LENGTHS, 30, True, rank=r, world_size=3).batches() for r in range(3)
    ]
    assert len({len(s) for s in shards}) == 1
    covered = {i for s in shards for b in s for i in b}
    assert covered == set(range(1000))
    evals = [
        SortishBatchSampler(LENGTHS, 30, False, rank=r, world_size=3).batches() for r in range(3)
    ]
    flat = [i for s in evals for b in s for i in b]
    assert sorted(flat) == list(range(1000))


def test_batches_pad_to_the_longest_document():
    docs = [np.array([5, 6, 7]), np.array([8]), np.array([9, 9])]
    batch = ClassificationDataset(docs, np.array([0, 1, 0]), pad_id=0)[[1, 0]]
    assert batch.tokens.tolist() == [[8, 0, 0], [5, 6, 7]]
    assert batch.lengths.tolist() == [1, 3] and batch.labels.tolist() == [1, 0]
    assert batch.index.tolist() == [1, 0] and batch.tokens.dtype == torch.long


def test_min_epoch_docs_repeats_a_small_training_set_each_copy_shuffled():
    lengths = np.arange(1, 11)  # 10 documents
    sampler = SortishBatchSampler(lengths, 4, shuffle=True, seed=3, min_epoch_docs=25)
    batches = sampler.batches()
    seen = np.concatenate([np.asarray(b) for b in batches])
    assert len(seen) == 30 and np.all(np.bincount(seen, minlength=10) == 3)
    assert len(sampler) == len(batches) == 9  # each copy: batches of 4, 4 and 2
    assert all(len(set(b)) == len(b) for b in batches)  # no document twice in a batch
    assert len({tuple(sorted(b)) for b in batches}) > 3  # copies batched differently
    plain = SortishBatchSampler(lengths, 4, shuffle=True, seed=3)
    assert len(plain) == len(plain.batches()) == 3
    evaluation = SortishBatchSampler(lengths, 4, shuffle=False, min_epoch_docs=25)
    assert sum(len(b) for b in evaluation.batches()) == 10  # never in evaluation
