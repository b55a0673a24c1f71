"""A local assistant that answers questions about news reports and cites its passages.

:class:`Assistant` (the facade in :mod:`assistant.core`) is imported on first use, so
that commands which do not need it (``assistant --help``, ``assistant cite``) start
without loading the answering pipeline.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from assistant.errors import AssistantError
from assistant.records import (
    Answer,
    BuildReport,
    Chunk,
    Citation,
    Document,
    Hit,
    Passage,
    Segment,
    Status,
    TextDelta,
    UploadLimits,
)
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.core import Assistant

__all__ = ["Answer", "Assistant", "AssistantError", "BuildReport", "Chunk", "Citation",
           "Document", "Hit", "Passage", "Segment", "Settings", "Status", "TextDelta",
           "UploadLimits"]
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """``assistant.Assistant``, imported from :mod:`assistant.core` when first asked for."""
    if name == "Assistant":
        return importlib.import_module("assistant.core").Assistant
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
