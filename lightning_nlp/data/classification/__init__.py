"""Labelled corpora (IMDb, SST-2, TREC, 20 Newsgroups, 10kGNAD, your table files) as length-sorted batches."""
