"""Transfer learning for NLP with recurrent language models, on PyTorch Lightning."""

__version__ = "0.1.0"


def load(path: str, backend: str = "auto", batch_size: int = 64):  # noqa: ANN201
    """A predictor (`predict(texts)`, `generate(prompt)`) from a model folder, checkpoint or run
    folder; see `lightning_nlp.predictor`."""
    from lightning_nlp.predictor import load as load_predictor

    return load_predictor(path, backend, batch_size)  # type: ignore[arg-type]
