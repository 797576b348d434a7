"""Transfer learning for NLP with recurrent language models, on PyTorch Lightning."""

__version__ = "0.1.0"


def load(path: str, backend: str = "fp32", batch_size: int = 64):  # noqa: ANN201
    """A predictor (`predict(texts)`, `generate(prompt)`) from a model folder, checkpoint or run
    folder; backend "fp32" (the default, as `lightning-nlp predict`), "bf16", "int8",
    "torchscript", "onnx", or "auto" (the fastest measured on this machine within a tolerance of
    fp32's probabilities); see `lightning_nlp.inference.predictor`."""
    from lightning_nlp.inference.predictor import load as load_predictor

    return load_predictor(path, backend, batch_size)  # type: ignore[arg-type]
