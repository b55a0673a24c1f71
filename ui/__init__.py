"""The web UI of the reports assistant (Gradio), started with ``assistant serve``.

Importing this package switches off Gradio's analytics and Hugging Face
telemetry before Gradio itself is imported; it does not import Gradio, so the
``assistant`` command line stays fast. Use :func:`ui.app.create_app` and
:func:`ui.app.launch`.
"""

from __future__ import annotations

import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ.setdefault("GRADIO_MCP_SERVER", "False")
