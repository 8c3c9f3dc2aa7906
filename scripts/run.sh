#!/usr/bin/env bash
# Builds Inlet and runs it on the default config (configs/inlet.yaml: embedded SQLite under data/).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINLET_BUILD_TESTS=OFF >/dev/null
cmake --build build -j2
exec build/inlet serve -c configs/inlet.yaml "$@"
