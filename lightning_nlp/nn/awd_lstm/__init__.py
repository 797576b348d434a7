"""AWD-LSTM (Merity et al. 2018) and the ULMFiT classifier built on it (Howard & Ruder 2018)."""

from lightning_nlp.nn.awd_lstm.classifier import AWDLSTMClassifier
from lightning_nlp.nn.awd_lstm.dropout import LockedDropout, embedding_dropout
from lightning_nlp.nn.awd_lstm.encoder import AWDLSTMEncoder
from lightning_nlp.nn.awd_lstm.language_model import AWDLSTMLanguageModel
from lightning_nlp.nn.awd_lstm.weight_drop_lstm import WeightDropLSTM

__all__ = [
    "AWDLSTMClassifier",
    "AWDLSTMEncoder",
    "AWDLSTMLanguageModel",
    "LockedDropout",
    "WeightDropLSTM",
    "embedding_dropout",
]
