"""Every read and write of weights: model folders, checkpoints, the fastai converter, word vectors,
document vectors (doc2vec)."""
