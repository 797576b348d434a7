"""Prediction, generation, exported graphs and serving from model folders, without Lightning."""
