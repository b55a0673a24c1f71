"""Answering: from a question and its conversation to a verified, cited answer."""
