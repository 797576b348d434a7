"""The padded path of exported graphs gives the outputs of packed sequences."""

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lightning_nlp.nn.padded_rnn import reverse_within_lengths, run_padded
from lightning_nlp.nn.text_classifiers import RNNClassifier


def test_reverse_within_lengths_keeps_padding_in_place():
    x = torch.arange(8.0).view(2, 4, 1)
    out = reverse_within_lengths(x, torch.tensor([4, 2]))
    assert out.squeeze(-1).tolist() == [[3, 2, 1, 0], [5, 4, 6, 7]]


@pytest.mark.parametrize("cell", [nn.LSTM, nn.GRU, nn.RNN])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("layers", [1, 2])
def test_padded_run_equals_packed_run(cell, bidirectional, layers):
    torch.manual_seed(0)
    rnn = cell(8, 6, num_layers=layers, bidirectional=bidirectional, batch_first=True).eval()
    x, lengths = torch.randn(4, 10, 8), torch.tensor([10, 3, 7, 1])
    packed_out, state = rnn(
        pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    )
    expected, _ = pad_packed_sequence(packed_out, batch_first=True, total_length=10)
    h_n = state[0] if isinstance(state, tuple) else state
    out, last = run_padded(rnn, x, lengths)
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(last, h_n[-(2 if bidirectional else 1) :])


@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
def test_a_classifier_gives_the_same_logits_on_both_paths(pooling):
    torch.manual_seed(0)
    net = RNNClassifier(50, 8, 6, 3, bidirectional=True, num_layers=2, pooling=pooling).eval()
    tokens, lengths = torch.randint(1, 50, (5, 9)), torch.tensor([9, 1, 4, 9, 6])
    packed = net(tokens, lengths)
    net.packed = False
    torch.testing.assert_close(net(tokens, lengths), packed)
