import math

import torch
from torch import nn

from lightning_nlp.nn.generation import beam_search, repeated_ngram_ends, sample
from lightning_nlp.nn.lstm_lm import LSTMLanguageModel


class BigramModel(nn.Module):
    """Next-token log-probabilities from a fixed table indexed by the previous token."""

    def __init__(self, table):
        super().__init__()
        self.table = torch.tensor(table).log()

    def forward(self, tokens, hidden=None):
        dummy = torch.zeros(1, tokens.shape[0], 1)
        return self.table[tokens], (dummy, dummy)


# From 0, greedy takes 1 (p .6) and then faces an even split; 2 (p .4) leads to 3 with p 1.
TABLE = [
    [0.0, 0.6, 0.4, 0.0],
    [0.0, 0.0, 0.5, 0.5],
    [0.0, 0.0, 0.0, 1.0],
    [1.0, 0.0, 0.0, 0.0],
]


def _logp(seq, start=0):
    total, prev = 0.0, start
    for token in seq:
        total += math.log(TABLE[prev][token])
        prev = token
    return total


def test_beam_search_beats_greedy_on_sequence_probability():
    model = BigramModel(TABLE)
    prompt = torch.tensor([0])
    greedy = sample(model, prompt, max_tokens=2, temperature=0)
    beam = beam_search(model, prompt, max_tokens=2, beam_size=2, length_penalty=0.0)
    assert greedy[0] == 1 and beam == [2, 3]
    assert _logp(beam) > _logp(greedy)


def test_beam_search_stops_at_eos_and_normalises_length():
    model = BigramModel(TABLE)
    search = lambda penalty: beam_search(model, torch.tensor([0]), 10, 3, penalty, eos_id=3)  # noqa: E731
    assert search(0.0) == [2, 3]  # log p -0.92 beats -1.20 of [1, 3] and [1, 2, 3]
    assert search(1.0) == [1, 2, 3]  # per token: -0.40 beats -0.46


def test_sampling_is_repeatable_with_a_seed_and_top_k_one_is_greedy():
    torch.manual_seed(0)
    model = LSTMLanguageModel(40, 8, 8).eval()
    prompt = torch.tensor([1, 2, 3])
    draw = lambda seed, **kw: sample(
        model, prompt, 20, generator=torch.Generator().manual_seed(seed), **kw
    )  # noqa: E731
    assert draw(7) == draw(7)
    assert draw(7) != draw(8)
    assert draw(1, top_k=1) == sample(model, prompt, 20, temperature=0)


class StepDownModel(nn.Module):
    """Always predicts the id one below the last input id: reading a reversed prompt, it
    continues the text leftwards (a backward LM's job)."""

    def __init__(self, vocab_size):
        super().__init__()
        self.vocab_size = vocab_size

    def forward(self, tokens, hidden=None):
        logits = torch.full((*tokens.shape, self.vocab_size), -1e9)
        logits.scatter_(-1, (tokens - 1).clamp(min=4)[..., None], 0.0)
        dummy = torch.zeros(1, tokens.shape[0], 1)
        return logits, (dummy, dummy)


def test_backwards_generation_writes_before_the_prompt():
    from lightning_nlp.data.text.vocab import SPECIALS, Vocab
    from lightning_nlp.inference.generation import generate_text

    vocab = Vocab([*SPECIALS, "a", "b", "c", "d", "e", "f"])
    model = StepDownModel(len(vocab))
    text = generate_text(
        model, vocab, "whitespace", "e f", max_tokens=3, temperature=0, backwards=True
    )
    assert text == ["b c d e f"]
    forwards = generate_text(model, vocab, "whitespace", "e f", max_tokens=2, temperature=0)
    assert forwards == ["e f e d"]


def test_ulmfit_generation_reads_as_words():
    from lightning_nlp.data.text.vocab import SPECIALS, Vocab
    from lightning_nlp.inference.generation import generate_text

    vocab = Vocab([*SPECIALS, "xxmaj", "great", "xxup", "this", "movie"])
    model = StepDownModel(len(vocab))  # after "movie": "this", "xxup", "great"
    text = generate_text(model, vocab, "ulmfit", "This movie", max_tokens=3, temperature=0)
    assert text == ["This movie this GREAT"]  # not "<bos> xxmaj this movie this xxup great"


def _ngrams(tokens, n):
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def test_beam_search_with_ngram_blocking_never_repeats_an_ngram():
    # the table's likeliest text loops 0 -> 1 -> 2 -> 3 -> 0 ...; a random table for the rest
    torch.manual_seed(0)
    table = torch.rand(6, 6) + 10 * torch.eye(6).roll(1, dims=1)
    model = BigramModel((table / table.sum(1, keepdim=True)).tolist())
    prompt = [0, 1]
    unblocked = beam_search(model, torch.tensor(prompt), 20, beam_size=3)
    assert len(set(_ngrams(prompt + unblocked, 3))) < len(_ngrams(prompt + unblocked, 3))
    for n in (2, 3):
        text = prompt + beam_search(model, torch.tensor(prompt), 20, 3, no_repeat_ngram_size=n)
        assert len(set(_ngrams(text, n))) == len(_ngrams(text, n)), (n, text)


def test_repeated_ngram_ends():
    assert repeated_ngram_ends([1, 2, 3, 1, 2], 3) == [3]
    assert repeated_ngram_ends([1, 2, 1, 3, 1], 2) == [2, 3]
    assert repeated_ngram_ends([5, 6], 3) == []
