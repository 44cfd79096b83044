"""Retrieval: the question's best paragraphs from the index. Each retriever (dense.py: cosine over the stored
vectors; lexical.py: BM25) returns a Ranking (ranking.py); fusion.py fuses them by reciprocal rank."""
