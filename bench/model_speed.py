"""Prompt-reading and writing speed of the default model as shipped (Q4_K_M) and as Q4_0.

``python bench/model_speed.py`` converts the bundled Q4_K_M model to Q4_0 once
(llama-cpp-python's quantize API; Q4_0 gets llama.cpp's repacked CPU kernels),
then measures, for each file, how many prompt tokens per second the model reads
and how many tokens per second it writes, with the same prompt, on the CPU.
Answer accuracy of the Q4_0 file is measured separately with
``assistant eval ../shared/eval/dev.jsonl --model <printed path>``.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from machine import machine_info  # noqa: E402

from assistant.models.files import resolve_model  # noqa: E402
from assistant.settings import Settings  # noqa: E402


def quantize_q4_0(source: Path, target: Path, threads: int) -> float:
    """Write a Q4_0 copy of ``source`` (requantized) to ``target``; return the seconds taken."""
    import llama_cpp

    if target.exists():
        return 0.0
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0
    params.allow_requantize = True
    params.nthread = threads
    tmp = target.with_name(target.name + ".tmp")
    started = time.perf_counter()
    code = llama_cpp.llama_model_quantize(str(source).encode(), str(tmp).encode(),
                                          ctypes.byref(params))
    if code != 0:
        raise SystemExit(f"quantizing failed with code {code}")
    tmp.replace(target)
    return time.perf_counter() - started


def speed(path: Path, threads: int, prompt_tokens: int, write_tokens: int,
          repeats: int) -> dict[str, Any]:
    """Tokens per second reading a prompt and writing a reply, best of ``repeats``."""
    from llama_cpp import Llama

    llm = Llama(model_path=str(path), n_ctx=4096, n_threads=threads, n_threads_batch=threads,
                n_batch=512, verbose=False)
    text = (ROOT / "corpus/tomshardware-h200-emergency-meetings.txt").read_text()
    tokens = llm.tokenize(text.encode(), add_bos=True)
    while len(tokens) < prompt_tokens:
        tokens = tokens + tokens
    tokens = tokens[:prompt_tokens]
    read, write = [], []
    for _ in range(repeats):
        llm.reset()
        started = time.perf_counter()
        llm.eval(tokens)
        read.append(prompt_tokens / (time.perf_counter() - started))
        started = time.perf_counter()
        # Writing evaluates one token at a time; which token does not change the cost.
        for i in range(write_tokens):
            llm.eval([tokens[i % len(tokens)]])
        write.append(write_tokens / (time.perf_counter() - started))
    return {"file": path.name, "bytes": path.stat().st_size,
            "read_tokens_per_s": max(read), "write_tokens_per_s": max(write),
            "prompt_tokens": prompt_tokens, "write_tokens": write_tokens}


def main(argv: list[str] | None = None) -> int:
    """Convert, measure, print a table and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompt-tokens", type=int, default=1000)
    parser.add_argument("--write-tokens", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/model_speed.json")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    source = resolve_model("default", settings.cache_dir)
    target = settings.cache_dir / "models" / source.name.replace("q4_k_m", "q4_0")
    convert_s = quantize_q4_0(source, target, settings.threads)
    results = [speed(p, settings.threads, args.prompt_tokens, args.write_tokens, args.repeats)
               for p in (source, target)]
    print(f"{'file':<44} {'MB':>6} {'read tok/s':>11} {'write tok/s':>12}")
    for r in results:
        print(f"{r['file']:<44} {r['bytes'] / 1e6:>6.0f} {r['read_tokens_per_s']:>11.1f} "
              f"{r['write_tokens_per_s']:>12.1f}")
    print(f"\nQ4_0 file: {target} (converted in {convert_s:.0f} s; 0 = already there)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine_info(), "threads": settings.threads,
                                    "q4_0_path": str(target), "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
