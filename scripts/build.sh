#!/usr/bin/env bash
# Configure and build into build/ (or $1 with extra cmake args after it).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
# Progress lines are dropped; with pipefail a failed build still fails
# this script (grep's own status is ignored, cmake's is not).
cmake --build "$dir" -j"$(nproc)" 2>&1 \
  | { grep -vE '^\[ *[0-9]+%\]|^gmake|Consolidate compiler' || true; }
test -x "$dir/mdenrich"
