"""Language-model corpora as contiguous BPTT streams (WikiText, PTB, text files)."""
