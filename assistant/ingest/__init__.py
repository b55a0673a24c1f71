"""Ingestion: report files read and cleaned (documents), cut into passages (chunking), uploads.

Imports only the shared modules (records, errors, settings, text).
"""
