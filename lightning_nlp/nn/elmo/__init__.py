"""ELMo (Peters et al. 2018): character-aware bidirectional LM and its mixed layers."""
