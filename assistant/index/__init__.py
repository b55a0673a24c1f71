"""The index: passages and their vectors in FAISS files or a Qdrant collection, kept in step.

``vectorstore`` is what retrieval needs from a store; ``faiss_store`` (with ``ann``) and
``qdrant_store`` are the stores; ``refresh_plan`` decides what a refresh keeps, embeds or
deletes; ``indexing`` carries the plan out in this process and ``batch`` with worker
processes. Imports ingest, models and the shared modules, never retrieval or answering.
"""
