"""Plain `torch.nn` models: no Lightning imports here.

Shape glossary used in comments throughout the package:
B batch, T tokens/time, W chars per token, V vocab, E embedding dim, H hidden dim,
L layers, C classes, F CNN filters, K beam size.
"""
