#!/usr/bin/env bash
# `make install`: the binary, a system user, /etc/smshook (config and env, 0640, never overwritten), systemd units.
# Usage: install.sh BINARY     Honours DESTDIR (a staging root: no user is created, no systemctl) and PREFIX.
# journald keeps the logs (the units log to stdout/stderr), so no logrotate file is needed.
set -euo pipefail
bin=${1:?usage: install.sh PATH_TO_SMSHOOK}
root=$(cd "$(dirname "$0")/../.." && pwd)
destdir=${DESTDIR:-}
prefix=${PREFIX:-/usr/local}
etc="$destdir/etc/smshook"
units="$destdir/lib/systemd/system"
install -d -m 0755 "$destdir$prefix/bin" "$units"
install -m 0755 "$bin" "$destdir$prefix/bin/smshook"
if [ -z "$destdir" ] && ! id smshook >/dev/null 2>&1; then
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin smshook
fi
group=root
[ -z "$destdir" ] && group=smshook
install -d -m 0750 -o root -g "$group" "$etc"
for f in smshook.yaml:config/smshook.yaml smshook.env:ops/production/smshook.env; do
    name=${f%%:*}
    src=$root/${f#*:}
    if [ -e "$etc/$name" ]; then
        echo "kept $etc/$name (exists; the new default is $etc/$name.new)"
        install -m 0640 -o root -g "$group" "$src" "$etc/$name.new"
    else
        install -m 0640 -o root -g "$group" "$src" "$etc/$name"
    fi
done
for unit in smshook-serve@.service smshook-worker@.service; do
    sed -e "s|/usr/local/bin/smshook|$prefix/bin/smshook|g" "$root/ops/systemd/$unit" >"$units/$unit"
    chmod 0644 "$units/$unit"
done
echo "installed $destdir$prefix/bin/smshook, $etc/, $units/smshook-{serve,worker}@.service"
if [ -z "$destdir" ]; then
    command -v systemctl >/dev/null && systemctl daemon-reload 2>/dev/null || true
    echo "next: edit $etc/smshook.env (every CHANGE-ME), then"
    echo "      systemctl enable --now smshook-serve@8081 smshook-serve@8082 smshook-worker@1 smshook-worker@2"
fi
