#!/usr/bin/env bash
# Every benchmark in turn (each prints its table and writes bench/results/*.json).
# The scale part needs Debian's python3-doc (apt-get install -y python3-doc) and ~30 min.
set -euo pipefail
cd "$(dirname "$0")/.."
python bench/run.py "$@"
python bench/model_speed.py
python bench/embedding.py
python bench/scale.py
