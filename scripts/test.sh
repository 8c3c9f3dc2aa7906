#!/usr/bin/env bash
# Builds Inlet with every plugin and runs all tests: unit, plugin, conformance and integration
# tests (real server, real sockets, a real PostgreSQL the tests start themselves), then the
# fuzzers for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
BUILD=${BUILD:-build}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINLET_BUILD_TESTS=ON -DINLET_PLUGINS= >/dev/null
cmake --build "$BUILD" -j2
# The fuzzers run inside ctest too (test "fuzz"), so ctest's summary is the last word.
cd "$BUILD" && exec ctest --output-on-failure --timeout 900 -j2
