"""A local assistant that answers questions about news reports and cites its passages."""

from assistant.core import Assistant
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

__all__ = ["Answer", "Assistant", "AssistantError", "BuildReport", "Chunk", "Citation",
           "Document", "Hit", "Passage", "Segment", "Settings", "Status", "TextDelta",
           "UploadLimits"]
__version__ = "0.1.0"
