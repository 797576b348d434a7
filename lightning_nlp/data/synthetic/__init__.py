"""The embedded synthetic reviews: the offline default corpus."""
