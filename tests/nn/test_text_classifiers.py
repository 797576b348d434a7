import pytest
import torch

from lightning_nlp.nn.functional import lengths_to_mask, masked_last, masked_max, masked_mean
from lightning_nlp.nn.text_classifiers import AveragedEmbeddingClassifier, RNNClassifier

MODELS = [
    lambda: AveragedEmbeddingClassifier(30, 8, 3),
    *[
        (lambda cell=cell, bi=bi, pool=pool: RNNClassifier(30, 8, 6, 3, cell, 2, bi, pool))
        for cell in ("rnn", "lstm", "gru")
        for bi in (False, True)
        for pool in ("last", "mean", "max")
    ],
]


@pytest.mark.parametrize("make", MODELS)
def test_more_padding_does_not_change_outputs(make):
    torch.manual_seed(0)
    model = make().eval()
    tokens = torch.randint(1, 30, (3, 7))
    lengths = torch.tensor([7, 4, 1])
    tokens[1, 4:] = 0
    tokens[2, 1:] = 0
    padded = torch.cat([tokens, torch.zeros(3, 5, dtype=torch.long)], dim=1)
    garbage = padded.clone()
    garbage[:, 7:] = 17  # whatever sits beyond the length must not matter
    out = model(tokens, lengths)
    assert out.shape == (3, 3)
    assert torch.allclose(model(padded, lengths), out, atol=1e-6)
    assert torch.allclose(model(garbage, lengths), out, atol=1e-6)
    alone = model(tokens[1:2, :4], lengths[1:2])
    assert torch.allclose(alone, out[1:2], atol=1e-6)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_packed_final_state_equals_unpadded_run(cell):
    torch.manual_seed(0)
    model = RNNClassifier(30, 8, 6, 2, cell, num_layers=2, bidirectional=True).eval()
    tokens = torch.randint(1, 30, (2, 9))
    lengths = torch.tensor([9, 5])
    features = model.encode(tokens, lengths)  # (B, 2H)
    for b in range(2):
        _, state = model.rnn(model.embedding(tokens[b : b + 1, : lengths[b]]))
        h_n = state[0] if isinstance(state, tuple) else state
        expected = torch.cat([h_n[-2, 0], h_n[-1, 0]])
        assert torch.allclose(features[b], expected, atol=1e-6)


def test_masked_helpers():
    hidden = torch.tensor([[[1.0], [3.0], [100.0]], [[-2.0], [-100.0], [-100.0]]])
    lengths = torch.tensor([2, 1])
    mask = lengths_to_mask(lengths, 3)
    assert mask.tolist() == [[True, True, False], [True, False, False]]
    assert masked_mean(hidden, mask).flatten().tolist() == [2.0, -2.0]
    assert masked_max(hidden, mask).flatten().tolist() == [3.0, -2.0]
    assert masked_last(hidden, lengths).flatten().tolist() == [3.0, -2.0]
