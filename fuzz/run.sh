#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (ASan + UBSan) and runs each for a bounded time.
# Exits non-zero when a build fails or any harness finds a crash, leak, timeout or UB.
#
#   fuzz/run.sh [-t SECONDS] [-j JOBS] [-b BUILD_DIR] [--no-build] [--list] [HARNESS ...]
#
#   -t SECONDS   time per harness (default 20; env FUZZ_TIME)
#   -j JOBS      build parallelism (default 2)
#   -b DIR       build directory (default <repo>/build-fuzz; env FUZZ_BUILD_DIR)
#   --no-build   run what is already built
#   --list       print the harness names of this build and exit
#   HARNESS      run only these (e.g. auth_github hmac_recipe); default: all built
#
# Seeds are read from fuzz/corpus/<harness>/ and never written to: new inputs go to a scratch
# corpus under the build directory. Crash inputs are saved as <build>/fuzz/artifacts/<harness>-*
# and can be replayed with: <build>/fuzz/fuzz_<harness> <artifact file>.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
time_per="${FUZZ_TIME:-20}"
jobs=2
build="${FUZZ_BUILD_DIR:-$repo/build-fuzz}"
do_build=1
list_only=0
only=()

while [[ $# -gt 0 ]]; do
  case "$1" in
    -t) time_per="$2"; shift 2 ;;
    -j) jobs="$2"; shift 2 ;;
    -b) build="$2"; shift 2 ;;
    --no-build) do_build=0; shift ;;
    --list) list_only=1; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) only+=("$1"); shift ;;
  esac
done

if [[ $do_build -eq 1 ]]; then
  if ! command -v clang++ >/dev/null; then
    echo "run.sh: clang++ not found (libFuzzer needs clang)" >&2
    exit 2
  fi
  mkdir -p "$build"
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DINLET_BUILD_FUZZERS=ON -DINLET_BUILD_TESTS=OFF >"$build/configure.log" 2>&1 || {
      cat "$build/configure.log" >&2; echo "run.sh: configure failed" >&2; exit 1; }
  cmake --build "$build" -j "$jobs" --target fuzzers
fi

list="$build/fuzz/harnesses.txt"
[[ -f "$list" ]] || { echo "run.sh: $list missing (configure with -DINLET_BUILD_FUZZERS=ON)" >&2; exit 2; }
mapfile -t targets < <(grep -v '^$' "$list")
if [[ $list_only -eq 1 ]]; then
  for t in "${targets[@]}"; do echo "${t#fuzz_}"; done
  exit 0
fi
if [[ ${#only[@]} -gt 0 ]]; then
  selected=()
  for h in "${only[@]}"; do
    t="fuzz_${h#fuzz_}"
    printf '%s\n' "${targets[@]}" | grep -qx "$t" || { echo "run.sh: no harness $h in this build" >&2; exit 2; }
    selected+=("$t")
  done
  targets=("${selected[@]}")
fi

mkdir -p "$build/fuzz/artifacts" "$build/fuzz/scratch"
failed=()
for t in "${targets[@]}"; do
  h="${t#fuzz_}"
  bin="$build/fuzz/$t"
  seeds="$here/corpus/$h"
  scratch="$build/fuzz/scratch/$h"
  mkdir -p "$scratch"
  dirs=("$scratch")
  [[ -d "$seeds" ]] && dirs+=("$seeds")
  echo "== $h (${time_per}s)"
  if ASAN_OPTIONS="detect_leaks=1:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
     "$bin" -max_total_time="$time_per" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
       -print_final_stats=1 -artifact_prefix="$build/fuzz/artifacts/$h-" "${dirs[@]}" \
       >"$build/fuzz/$h.log" 2>&1; then
    grep -E "stat::number_of_executed_units|^fuzz: " "$build/fuzz/$h.log" || true
  else
    echo "!! $h FAILED — log: $build/fuzz/$h.log" >&2
    tail -n 40 "$build/fuzz/$h.log" >&2
    failed+=("$h")
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "run.sh: ${#failed[@]} harness(es) failed: ${failed[*]}" >&2
  exit 1
fi
echo "run.sh: ${#targets[@]} harness(es) ran clean"
