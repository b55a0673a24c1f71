"""The assistant's error hierarchy.

Library code raises these; only the CLI and the UI translate them into short,
friendly messages. Every error carries a message meant for a person, with no
traceback and no internal detail a reader cannot act on.
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base class for every error the assistant raises on purpose."""


class ConfigError(AssistantError):
    """A setting has a value the assistant cannot use."""


class DocumentError(AssistantError):
    """A document could not be read, cleaned or accepted into the corpus."""


class StoreError(AssistantError):
    """The on-disk index is missing, stale, corrupted or could not be written."""


class ModelError(AssistantError):
    """A model file is missing, incomplete, corrupted or could not be loaded."""


class CitationError(AssistantError):
    """A citation id is malformed or no longer points at its passage."""


class QuestionError(AssistantError):
    """A question cannot be asked as given (empty, too long, ...)."""

