#!/usr/bin/env bash
# Installs the Debian 12 packages Inlet needs (idempotent: apt runs only when something is missing).
#   scripts/install-deps.sh          build + run
#   scripts/install-deps.sh --test   also what the test suite needs (PostgreSQL server, clang for fuzzing)
#   scripts/install-deps.sh --bench  also wrk and nginx for bench/
set -euo pipefail

packages=(build-essential cmake ccache pkg-config
          libpoco-dev libyaml-cpp-dev libboost-dev libssl-dev libsqlite3-dev sqlite3 libpq-dev librdkafka-dev
          libgoogle-perftools-dev
          curl openssl ca-certificates)
for arg in "$@"; do
  case "$arg" in
    --test) packages+=(libgtest-dev libgmock-dev postgresql clang libclang-rt-14-dev) ;;
    --bench) packages+=(wrk nginx-light) ;;
    *) echo "unknown option $arg" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
