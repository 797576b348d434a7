"""Transfer learning for NLP with recurrent language models, on PyTorch Lightning."""

__version__ = "0.1.0"
