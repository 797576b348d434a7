"""LightningModules: losses, metrics, logging and optimisation around `lightning_nlp.nn` models."""
