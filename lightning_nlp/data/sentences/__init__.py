"""Sentence batches of words and their characters for ELMo's biLM."""
