import warnings

import pytest
import torch

from lightning_nlp.nn.awd_lstm import (
    AWDLSTMClassifier,
    AWDLSTMLanguageModel,
    LockedDropout,
    WeightDropLSTM,
    embedding_dropout,
)


def test_weight_drop_masks_differ_in_training_and_vanish_in_eval():
    torch.manual_seed(0)
    layer = WeightDropLSTM(4, 6, weight_dropout=0.5)
    x = torch.randn(2, 5, 4)
    first, second = layer(x)[0], layer(x)[0]
    assert not torch.allclose(first, second)  # a new mask each forward pass
    layer.eval()
    assert torch.equal(layer(x)[0], layer(x)[0])
    reference = torch.nn.LSTM(4, 6, batch_first=True)
    with torch.no_grad():
        for ours, theirs in zip(layer.parameters(), reference.parameters()):
            theirs.copy_(ours)
    assert torch.allclose(layer(x)[0], reference(x)[0], atol=1e-6)  # eval: the whole weights


def test_raw_weights_change_only_by_the_optimiser_step():
    torch.manual_seed(0)
    layer = WeightDropLSTM(3, 4, weight_dropout=0.5)
    before = layer.weight_hh.detach().clone()
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
    layer(torch.randn(2, 5, 3))[0].sum().backward()
    assert torch.equal(layer.weight_hh, before)  # the forward pass did not touch them
    grad = layer.weight_hh.grad.clone()
    optimizer.step()
    assert torch.allclose(layer.weight_hh, before - 0.1 * grad)
    assert set(layer.state_dict()) == {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}


def test_the_fused_kernel_runs_once_per_layer_without_warnings():
    model = AWDLSTMLanguageModel(30, 8, 12, num_layers=3)
    tokens = torch.randint(0, 30, (2, 9))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            model(tokens).logits.sum().backward()
    calls = [e for e in prof.key_averages() if e.key == "aten::lstm"]
    assert calls and calls[0].count == 3  # whole sequences, no loop over time steps


def test_state_dict_round_trip_keeps_the_tie():
    torch.manual_seed(0)
    model = AWDLSTMLanguageModel(30, 8, 12, num_layers=2).eval()
    copy = AWDLSTMLanguageModel(30, 8, 12, num_layers=2).eval()
    copy.load_state_dict(model.state_dict())
    tokens = torch.randint(0, 30, (2, 7))
    assert torch.equal(model(tokens).logits, copy(tokens).logits)
    assert copy.decoder.weight is copy.encoder.embedding.weight


def test_locked_dropout_mask_is_constant_over_time():
    torch.manual_seed(0)
    out = LockedDropout(0.5)(torch.ones(3, 10, 8))
    assert torch.equal(out, out[:, :1].expand_as(out))  # the same mask at every step
    assert ((out == 0) | (out == 2)).all() and (out == 0).any()
    assert torch.equal(LockedDropout(0.5).eval()(torch.ones(3, 10, 8)), torch.ones(3, 10, 8))


def test_embedding_dropout_drops_whole_words():
    torch.manual_seed(0)
    tokens = torch.tensor([[1, 2, 1, 3, 2, 1]] * 4)
    out = embedding_dropout(torch.ones(4, 6, 5), tokens, 4, 0.5, training=True)
    for word in (1, 2, 3):
        values = out[tokens == word]  # every occurrence of the word, every feature
        assert torch.all(values == values[0, 0])  # all dropped or all kept (x2)
    assert set(out.unique().tolist()) <= {0.0, 2.0}


def _document_batch(vocab=40, length=23):
    torch.manual_seed(0)
    tokens = torch.randint(4, vocab, (3, length))
    lengths = torch.tensor([length, 10, 1])
    for row, n in enumerate(lengths):
        tokens[row, n:] = 0
    return tokens, lengths


def test_bpt3c_in_eval_equals_one_uninterrupted_pass():
    tokens, lengths = _document_batch()
    chunked = AWDLSTMClassifier(40, 3, embed_dim=8, hidden_dim=12, bptt=4, max_len=6).eval()
    whole = AWDLSTMClassifier(40, 3, embed_dim=8, hidden_dim=12, bptt=100, max_len=100).eval()
    whole.load_state_dict(chunked.state_dict())
    assert torch.allclose(chunked(tokens, lengths), whole(tokens, lengths), atol=1e-5)
    # padding after a document never changes it
    alone = whole(tokens[1:2, :10], lengths[1:2])
    assert torch.allclose(whole(tokens, lengths)[1], alone[0], atol=1e-5)
    # nor does reading it beside a longer one (it starts on a later chunk, from a zero state)
    alone = chunked(tokens[1:2, :10], lengths[1:2])
    assert torch.allclose(chunked(tokens, lengths)[1], alone[0], atol=1e-5)


def test_bpt3c_gradients_reach_only_the_last_max_len_tokens():
    model = AWDLSTMClassifier(
        60, 2, embed_dim=8, hidden_dim=12, bptt=5, max_len=7, embed_dropout=0.0
    )
    tokens = torch.arange(4, 24)[None]  # 20 distinct words, one per position
    model(tokens, torch.tensor([20])).sum().backward()
    grad_rows = model.encoder.embedding.weight.grad[4:24].abs().sum(dim=1)  # (20,)
    assert torch.all(grad_rows[:13] == 0)  # the first 13 positions: no graph
    assert torch.all(grad_rows[13:] > 0)  # the last max_len=7 positions: gradients
    assert model.chunks(20)[-3:] == [(10, 13, False), (13, 15, True), (15, 20, True)]


def test_bpt3c_gives_every_document_of_a_batch_its_own_gradient_window():
    model = AWDLSTMClassifier(
        60, 2, embed_dim=8, hidden_dim=12, bptt=5, max_len=7, embed_dropout=0.0
    )
    tokens = torch.zeros(2, 20, dtype=torch.long)
    tokens[0] = torch.arange(4, 24)  # 20 words
    tokens[1, :10] = torch.arange(30, 40)  # 10 other words, then padding
    model(tokens, torch.tensor([20, 10])).sum().backward()
    grad_rows = model.encoder.embedding.weight.grad.abs().sum(dim=1)  # (V,)
    assert torch.all(grad_rows[4:17] == 0) and torch.all(grad_rows[17:24] > 0)
    # the short document's last 7 words get gradients too, not only the longest document's
    assert torch.all(grad_rows[30:33] == 0) and torch.all(grad_rows[33:40] > 0)


def test_classifier_head_shape_is_checked():
    with pytest.raises(ValueError, match="head_dropouts needs 2 values"):
        AWDLSTMClassifier(10, 2, head_dims=(50,), head_dropouts=(0.1,))


def test_layer_groups_cover_every_parameter_once():
    for model in (AWDLSTMLanguageModel(30, 8, 12, 3), AWDLSTMClassifier(30, 2, 0, 8, 12, 3)):
        grouped = [id(p) for group in model.layer_groups() for p in group]
        assert len(grouped) == len(set(grouped)) == len(list(model.parameters()))


def test_a_training_batch_of_one_document_uses_running_statistics():
    model = AWDLSTMClassifier(30, 2, embed_dim=8, hidden_dim=12)
    logits = model(torch.randint(4, 30, (1, 9)), torch.tensor([9]))
    assert logits.shape == (1, 2) and model.head[0].training
