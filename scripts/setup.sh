#!/usr/bin/env bash
# Install exactly the Debian packages mdenrich needs to build, test and run.
# Idempotent: quiet and quick when everything is already installed.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config
  libcurl4-openssl-dev libcjson-dev libpq-dev libgsl-dev libopenblas-dev
  libcmocka-dev libinih-dev libmicrohttpd-dev
  libzip-dev libssl-dev libfmt-dev
  libwebsockets-dev
  postgresql-15 postgresql-client-15
  clang libclang-rt-14-dev
  libjs-dygraphs chromium wrk curl
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
