"""A local assistant that answers questions about news reports and cites its passages."""

from assistant.core import Assistant
from assistant.errors import AssistantError
from assistant.records import Answer, Chunk, Citation, Document, Hit, Passage, Status, TextDelta
from assistant.settings import Settings

__all__ = ["Answer", "Assistant", "AssistantError", "Chunk", "Citation", "Document", "Hit",
           "Passage", "Settings", "Status", "TextDelta"]
__version__ = "0.1.0"
