"""Retrieval: BM25 (lexical) and the dense, lexical and hybrid retriever over an index.

Imports the index, the models and the shared modules, never answering or the verifier.
"""
