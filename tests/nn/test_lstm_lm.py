import torch

from lightning_nlp.nn.lstm_lm import LSTMLanguageModel


def test_shapes_and_state():
    model = LSTMLanguageModel(vocab_size=50, embed_dim=8, hidden_dim=12, num_layers=2)
    tokens = torch.randint(0, 50, (3, 7))
    logits, (h, c) = model(tokens)[:2]
    assert logits.shape == (3, 7, 50)
    assert h.shape == c.shape == (2, 3, 12)


def test_tied_weights_share_storage_even_when_dims_differ():
    for hidden_dim in (8, 12):
        model = LSTMLanguageModel(50, embed_dim=8, hidden_dim=hidden_dim, tie_weights=True)
        assert model.decoder.weight.data_ptr() == model.embedding.weight.data_ptr()
        assert model(torch.zeros(1, 2, dtype=torch.long)).logits.shape == (1, 2, 50)
    untied = LSTMLanguageModel(50, embed_dim=8, hidden_dim=12, tie_weights=False)
    assert untied.decoder.weight.data_ptr() != untied.embedding.weight.data_ptr()
    assert untied.decoder.in_features == 12


def test_carrying_state_equals_one_long_run():
    torch.manual_seed(0)
    model = LSTMLanguageModel(30, 6, 6, num_layers=2).eval()
    tokens = torch.randint(0, 30, (2, 10))
    whole = model(tokens).logits
    first = model(tokens[:, :4])
    second = model(tokens[:, 4:], first.hidden)
    assert torch.allclose(torch.cat([first.logits, second.logits], 1), whole, atol=1e-6)
