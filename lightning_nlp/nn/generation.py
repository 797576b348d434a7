"""Decoding from a recurrent LM: temperature/top-k sampling and length-normalised beam search
with n-gram blocking.

Both functions take any module with `forward(tokens, hidden) -> (logits, hidden, ...)` where
tokens is (B, T), logits (B, T, V) and hidden a nesting of tensors with the batch on dim 1
(see `recurrent_state`). Put the model in eval mode before calling them.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from lightning_nlp.nn.recurrent_state import reorder_state


@torch.no_grad()
def sample(
    model: nn.Module,
    prompt: Tensor,
    max_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    eos_id: int | None = None,
    generator: torch.Generator | None = None,
) -> list[int]:
    """Draws up to `max_tokens` ids after `prompt` (T,). temperature 0 means greedy decoding."""
    if prompt.numel() == 0:
        raise ValueError("prompt must hold at least one token id")
    logits, hidden = model(prompt[None])[:2]  # (1, T, V)
    generated: list[int] = []
    for _ in range(max_tokens):
        next_logits = logits[0, -1].float()  # (V,); fp32 also under bf16 autocast
        if temperature <= 0:
            token = int(next_logits.argmax())
        else:
            next_logits = next_logits / temperature
            if top_k is not None and top_k < next_logits.numel():
                kth_best = next_logits.topk(top_k).values[-1]
                next_logits = next_logits.masked_fill(next_logits < kth_best, float("-inf"))
            probs = next_logits.softmax(-1)  # (V,)
            token = int(torch.multinomial(probs, 1, generator=generator))
        generated.append(token)
        if token == eos_id:
            break
        logits, hidden = model(prompt.new_tensor([[token]]), hidden)[:2]  # (1, 1, V)
    return generated


@torch.no_grad()
def beam_search(
    model: nn.Module,
    prompt: Tensor,
    max_tokens: int,
    beam_size: int = 5,
    length_penalty: float = 1.0,
    eos_id: int | None = None,
    no_repeat_ngram_size: int = 0,
) -> list[int]:
    """Returns the continuation of `prompt` (T,) with the best score log p / length**length_penalty.

    A hypothesis ends when it emits `eos_id` (kept, eos included) or reaches `max_tokens`;
    the search stops once `beam_size` hypotheses have ended or no step is left.
    `no_repeat_ngram_size` n > 0 forbids any token that would repeat an n-gram of the prompt
    and continuation so far: a small LM's most likely text otherwise loops on one sentence.
    """
    if prompt.numel() == 0:
        raise ValueError("prompt must hold at least one token id")
    logits, hidden = model(prompt[None])[:2]  # (1, T, V)
    log_probs = logits[:, -1].float().log_softmax(-1)  # (1, V)
    vocab_size = log_probs.shape[-1]
    scores = log_probs.new_zeros(1)  # (K,)
    sequences = prompt.new_empty(1, 0)  # (K, 0)
    finished: list[tuple[float, list[int]]] = []
    context = prompt.tolist()
    for step in range(1, max_tokens + 1):
        if no_repeat_ngram_size > 0:
            for k, sequence in enumerate(sequences.tolist()):
                banned = repeated_ngram_ends(context + sequence, no_repeat_ngram_size)
                log_probs[k, banned] = float("-inf")
        totals = (scores[:, None] + log_probs).flatten()  # (K * V,)
        finite = max(1, int(totals.isfinite().sum()))
        scores, flat_ids = totals.topk(min(beam_size, finite))  # (K,)
        beam_ids, tokens = flat_ids // vocab_size, flat_ids % vocab_size
        sequences = torch.cat([sequences[beam_ids], tokens[:, None]], dim=1)  # (K, step)
        hidden = reorder_state(hidden, beam_ids)
        if eos_id is not None:
            ended = tokens == eos_id  # (K,)
            for i in ended.nonzero().flatten().tolist():
                finished.append((float(scores[i]) / step**length_penalty, sequences[i].tolist()))
            alive = ~ended
            sequences, scores, tokens = sequences[alive], scores[alive], tokens[alive]
            hidden = reorder_state(hidden, alive.nonzero().flatten())
            if len(finished) >= beam_size or not alive.any():
                break
        if step == max_tokens:
            break
        logits, hidden = model(tokens[:, None], hidden)[:2]  # (K, 1, V)
        log_probs = logits[:, -1].float().log_softmax(-1)  # (K, V)
    length = sequences.shape[1]
    finished += [
        (float(score) / max(length, 1) ** length_penalty, seq)
        for score, seq in zip(scores, sequences.tolist())
    ]
    return max(finished, key=lambda item: item[0])[1]


def repeated_ngram_ends(tokens: list[int], n: int) -> list[int]:
    """The tokens that, appended to `tokens`, would complete an n-gram already in them."""
    if n == 1:
        return sorted(set(tokens))
    if len(tokens) < n:
        return []
    prefix = tokens[len(tokens) - n + 1 :]
    return sorted(
        {tokens[i + n - 1] for i in range(len(tokens) - n + 1) if tokens[i : i + n - 1] == prefix}
    )
