#!/bin/bash
# Runs the daemon benchmark on a release binary: ./benchmark.sh [BINARY] [RESCANS] [IDLE_SECONDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec python3 "$here/benchmark.py" "$@"
