"""Text in, text out: a prompt continued by a recurrent language model (sampling or beam
search), shared by `lightning-nlp generate` and `Predictor.generate`."""

from __future__ import annotations

import torch

from lightning_nlp.data.text.tokenize import TokenizerName, get_tokenizer, undo_markers
from lightning_nlp.data.text.vocab import EOS, Vocab
from lightning_nlp.nn.generation import beam_search, sample


def generate_text(
    model: torch.nn.Module,
    vocab: Vocab,
    tokenizer: TokenizerName,
    prompt: str = "",
    max_tokens: int = 50,
    temperature: float = 1.0,
    top_k: int | None = None,
    beam_size: int = 1,
    length_penalty: float = 1.0,
    num_samples: int = 1,
    seed: int = 0,
    backwards: bool = False,
    no_repeat_ngram_size: int = 3,
) -> list[str]:
    """Continues `prompt` with `model` (in eval mode); see `generate` for the arguments. With
    the ULMFiT tokenizer the text is given in words, its markers undone (`undo_markers`)."""
    tokens = get_tokenizer(tokenizer)(prompt) if prompt.strip() else []
    ids = vocab.encode(tokens) if tokens else [vocab.eos_id]
    prompt_ids = torch.tensor(ids[::-1] if backwards else ids)
    generator = torch.Generator().manual_seed(seed)
    texts = []
    for _ in range(num_samples if beam_size == 1 else 1):
        if beam_size > 1:
            new = beam_search(
                model,
                prompt_ids,
                max_tokens,
                beam_size,
                length_penalty,
                vocab.eos_id,
                no_repeat_ngram_size,
            )
        else:
            new = sample(model, prompt_ids, max_tokens, temperature, top_k, vocab.eos_id, generator)
        words = [w for w in vocab.decode(new) if w != EOS]
        words = words[::-1] + tokens if backwards else tokens + words
        texts.append(" ".join(undo_markers(words) if tokenizer == "ulmfit" else words))
    return texts
