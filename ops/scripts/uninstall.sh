#!/usr/bin/env bash
# `make uninstall`: removes the binary and the units; keeps /etc/smshook, the smshook user and Redis data.
set -euo pipefail
destdir=${DESTDIR:-}
prefix=${PREFIX:-/usr/local}
if [ -z "$destdir" ] && command -v systemctl >/dev/null; then
    systemctl disable --now 'smshook-serve@*' 'smshook-worker@*' 2>/dev/null || true
fi
rm -f "$destdir$prefix/bin/smshook" "$destdir/lib/systemd/system/smshook-serve@.service" \
    "$destdir/lib/systemd/system/smshook-worker@.service"
[ -z "$destdir" ] && command -v systemctl >/dev/null && systemctl daemon-reload 2>/dev/null || true
echo "removed the binary and units; kept $destdir/etc/smshook and the smshook user"
