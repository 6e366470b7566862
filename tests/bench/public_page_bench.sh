#!/usr/bin/env bash
# Public page benchmark (issue 21): heraldd serving its public documents
# against nginx serving the same bytes from heraldd's own static mirror, in
# the same run, on the same machine, with the same load (wrk, 2 threads, 128
# connections). The page has 50 incidents of history. Each path is measured
# quiet, then again while a fan-out to FANOUT subscribers (through a real
# SMTP sink) runs. Also: a 304 (If-None-Match) against the full reply.
#
# Prints one line per measurement and the ratios; fails only when something
# does not answer as it should (a status other than 200/304, a fan-out that
# did not start).
#
# usage: public_page_bench.sh HERALDD HERALD [FANOUT] [SECONDS]
set -euo pipefail
HERALDD=$(realpath "$1")
HERALD=$(realpath "$2")
FANOUT=${3:-100000}
SECONDS_EACH=${4:-5}
source "$(dirname "$0")/../e2e/lib.sh"
source "$(dirname "$0")/../e2e/publishing.sh"
require wrk nginx curl "$SYSTEM_PYTHON"
"$SYSTEM_PYTHON" -c 'import aiosmtpd' || fail "python3-aiosmtpd is not installed"

pick_ports
make_tokens
MIRROR=$WORK/mirror
NGINX_PORT=$(free_port)
SMTP_PORT=$(free_port)
"$SYSTEM_PYTHON" -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Sink \
  >"$WORK/smtp.log" 2>&1 &
PIDS+=($!)

cat >"$WORK/herald.yaml" <<YAML
$(e2e_server)
$(public_site_config)
smtp: {url: 'smtp://127.0.0.1:$SMTP_PORT', from: status@acme.example}
status_mirror: {directory: $MIRROR}
YAML
# At warn level: a debug line per request is not what is measured.
"$HERALDD" --config "$WORK/herald.yaml" --grpc-listen "127.0.0.1:$GRPC_PORT" \
  --http-listen "127.0.0.1:$HTTP_PORT" --log-level warn >>"$WORK/heraldd.log" 2>&1 &
HERALDD_PID=$!
PIDS+=($HERALDD_PID)
wait_for 20 "heraldd /healthz" curl -fsS "$PAGE/healthz"

step "50 incidents of history"
for i in $(seq 1 50); do
  fire "svc-$i"  # routed to the API (intake.default_component)
  wait_for 10 "INC-$i's first draft" has_draft "INC-$i" STATUS_UPDATE
  approve_draft "INC-$i" STATUS_UPDATE
  as "$ENGINEER_TOKEN" resolve "INC-$i" --note "Fixed number $i." >/dev/null
  approve_draft "INC-$i" RESOLUTION
done
INCIDENT=/incidents/INC-25
# (The pages differ only in where the subscribe form posts: the mirror's
# names heraldd's public URL.)
mirrored() { curl -fsS "$PAGE/api/v2/incidents.json" | cmp -s - "$MIRROR/current/api/v2/incidents.json"; }
wait_for 10 "the mirror to hold the page" mirrored

mkdir -p "$WORK/nginx"
cat >"$WORK/nginx.conf" <<CONF
worker_processes 2;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
daemon off;
$( [[ $(id -u) == 0 ]] && echo 'user root root;' )
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  types { text/html html; application/json json; application/atom+xml atom; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $MIRROR/current;
    index index.html;
  }
}
CONF
nginx -c "$WORK/nginx.conf" -p "$WORK/nginx" >"$WORK/nginx/stdout.log" 2>&1 &
PIDS+=($!)
NGINX=http://127.0.0.1:$NGINX_PORT
wait_for 10 "nginx" curl -fsS "$NGINX/"

# What nginx serves at each path: its directories end in a slash.
nginx_path() { [[ $1 == /incidents/* ]] && echo "$1/" || echo "$1"; }

# measure URL [HEADER]: "RPS P99_MS" from wrk; fails on non-2xx/3xx replies.
measure() {
  local args=(-t2 -c128 "-d${SECONDS_EACH}s" --latency)
  [[ -n ${2:-} ]] && args+=(-H "$2")
  wrk "${args[@]}" "$1" >"$WORK/wrk.txt" 2>&1 || fail "wrk $1: $(cat "$WORK/wrk.txt")"
  ! grep -q 'Non-2xx or 3xx' "$WORK/wrk.txt" || fail "$1 answered errors: $(cat "$WORK/wrk.txt")"
  awk '/^Requests\/sec:/ {rps=$2}
       $1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; p99=v}
       END {printf "%.0f %.2f\n", rps, p99}' "$WORK/wrk.txt"
}

# compare LABEL: each path from nginx and from heraldd; prints both and
# heraldd's share of nginx's rate.
compare() {
  local path n h
  for path in / "$INCIDENT" /api/v2/summary.json /history.atom; do
    n=($(measure "$NGINX$(nginx_path "$path")"))
    h=($(measure "$PAGE$path"))
    printf '%-9s %-22s nginx %7s req/s p99 %6s ms | heraldd %7s req/s p99 %6s ms | %.2fx\n' \
      "$1" "$path" "${n[0]}" "${n[1]}" "${h[0]}" "${h[1]}" \
      "$(awk -v a="${h[0]}" -v b="${n[0]}" 'BEGIN {print a / b}')"
  done
}

step "quiet: heraldd against nginx serving its mirror"
compare quiet

step "304s against full replies (heraldd)"
for path in / /api/v2/summary.json; do
  etag=$(curl -fsS -D - -o /dev/null "$PAGE$path" | sed -n 's/^[Ee][Tt]ag: *\([^\r]*\).*/\1/p')
  [[ -n $etag ]] || fail "$path has no ETag"
  full=($(measure "$PAGE$path"))
  not_modified=($(measure "$PAGE$path" "If-None-Match: $etag"))
  printf '%-22s full %7s req/s p99 %6s ms | 304 %7s req/s p99 %6s ms | %.2fx\n' "$path" \
    "${full[0]}" "${full[1]}" "${not_modified[0]}" "${not_modified[1]}" \
    "$(awk -v a="${not_modified[0]}" -v b="${full[0]}" 'BEGIN {print a / b}')"
done

step "a fan-out to $FANOUT subscribers"
"$SYSTEM_PYTHON" - "$FANOUT" >"$WORK/subscribers.csv" <<'PY'
import sys
print("id,components,name,email")
for i in range(int(sys.argv[1])):
    print(f"s{i},checkout,Subscriber {i},s{i}@bench.example")
PY
as "$LEAD_TOKEN" subscribers import "$WORK/subscribers.csv" >/dev/null
fire checkout
wait_for 10 "the checkout incident's first draft" has_draft INC-51 STATUS_UPDATE
approve_draft INC-51 STATUS_UPDATE
# delivered: emails the outbox has sent so far.
delivered() {
  curl -fsS "$PAGE/metrics" |
    awk '/^herald_deliveries_total\{/ && /result="delivered"/ {s += $NF} END {printf "%d\n", s}'
}
sending() { (( $(delivered) > 0 )); }
wait_for 30 "the fan-out to start sending" sending
before=$(delivered)
compare fan-out
after=$(delivered)
echo "the fan-out sent $((after - before)) emails during the measurements ($after of $FANOUT in all)"
(( after < FANOUT )) || echo "note: the fan-out finished before the measurements did"
