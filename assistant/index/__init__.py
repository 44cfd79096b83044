"""The paragraph index: embeddings (embeddings.py), the vector database behind one small interface (store/), the
in-memory mirror of the committed chunks with its BM25 statistics (mirror.py, mirror_cache.py, bm25.py), and the
read side that retrieval uses (paragraphs.py: `ParagraphIndex`). Writing into it is assistant/ingest/, one floor up."""
