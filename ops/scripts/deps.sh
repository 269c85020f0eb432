#!/usr/bin/env bash
# Installs the system packages smshook needs (Debian/Ubuntu, as root), only when missing.
set -euo pipefail
need=()
pkg-config --exists hiredis 2>/dev/null || need+=(libhiredis-dev)
# jemalloc, linked into the binary as its malloc (Package.swift, CAllocator)
pkg-config --exists jemalloc 2>/dev/null || need+=(libjemalloc-dev)
command -v redis-server >/dev/null || need+=(redis-server)
command -v redis-cli >/dev/null || need+=(redis-tools)
command -v pkg-config >/dev/null || need+=(pkg-config)
# extra tools as arguments: `tool` (package of the same name) or `tool:package`
for arg in "$@"; do command -v "${arg%%:*}" >/dev/null || need+=("${arg#*:}"); done
if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "swift not found: install Swift 6.1 or later (https://swift.org/install)" >&2; exit 1; }
