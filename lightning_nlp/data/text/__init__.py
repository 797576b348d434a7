"""Text processing shared by every corpus: tokenisers, vocabulary, token and corpus caches, file reading, downloads."""
