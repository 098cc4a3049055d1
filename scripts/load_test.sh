#!/usr/bin/env bash
# Load test of `explain serve` on loopback with wrk (`make load-test` builds explain in release
# and installs wrk first). One server, on a free port, with --max-body-mb 1 so that oversized
# bodies are cheap to send:
#   phase 1  wrk POSTs a committed fixture image to /explain at each concurrency of
#            LOAD_CONNECTIONS for LOAD_SECONDS: requests/s, latency percentiles; socket errors,
#            timeouts and non-2xx answers must all be 0.
#   phase 2  mixed traffic for LOAD_MIXED_SECONDS (scripts/load/mixed.lua): valid images, noise,
#            a truncated JPEG, empty, oversized (with Content-Length and chunked), a bad
#            parameter, a form upload, a wrong path and a wrong method; every request must get
#            the status of its kind, with no socket error.
# Then the server must still be running and answer GET /models. Its peak resident memory
# (VmHWM) is read before and after each phase. Prints a summary table; exits 1 on any
# unexpected result, 2 when it cannot run.
#
# Environment: EXPLAIN (default .build/release/explain), LOAD_MODEL (efficientnet-lite0; without
# its weights a small committed checkpoint is served through a zoo file), LOAD_CONNECTIONS
# ("4 16"), LOAD_SECONDS (30), LOAD_MIXED_CONNECTIONS (8), LOAD_MIXED_SECONDS (30),
# LOAD_CONCURRENCY (the server's --concurrency; default its own, the number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."

EXPLAIN=${EXPLAIN:-.build/release/explain}
MODEL=${LOAD_MODEL:-efficientnet-lite0}
CONNECTIONS=${LOAD_CONNECTIONS:-4 16}
DURATION=${LOAD_SECONDS:-30}
MIXED_CONNECTIONS=${LOAD_MIXED_CONNECTIONS:-8}
MIXED_DURATION=${LOAD_MIXED_SECONDS:-30}
PNG=Fixtures/images/photo.png
JPEG=Fixtures/images/decode/baseline.jpg
BODY_LIMIT_MB=1
REQUEST_TIMEOUT=60

command -v wrk >/dev/null || { echo "load_test: wrk is not installed (make load-test installs it)" >&2; exit 2; }
command -v curl >/dev/null || { echo "load_test: curl is not installed" >&2; exit 2; }
[ -x "$EXPLAIN" ] || { echo "load_test: no $EXPLAIN; build it with: swift build -c release --product explain" >&2; exit 2; }

work=$(mktemp -d /tmp/camkit-load.XXXXXX)
server=
cleanup() {
    if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
        kill "$server"
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

failures=()
fail() { failures+=("$1"); }

# The model: the pretrained one when its weights are present, else the small checkpoint of
# Fixtures/checkpoints (seeded, 5 classes), which exercises the same server at a lower cost.
serve_args=()
if "$EXPLAIN" models | grep -A5 "^$MODEL\$" | grep -q "(present)"; then
    model=$MODEL
else
    echo "load_test: no weights for $MODEL (make models fetches them); serving Fixtures/checkpoints/small_cnn_mha.pth instead"
    model=small-checkpoint
    printf '%s\n' a b c d e > "$work/labels.txt"
    cat > "$work/zoo.json" <<EOF
{"models": [{"name": "$model", "architecture": "seed-cnn_mha", "backbone": {"depths": [1, 1, 2, 1], "dims": [8, 16, 32, 64]},
             "weights": "$PWD/Fixtures/checkpoints/small_cnn_mha.pth", "labels": "labels.txt", "preprocessing": "imagenet"}]}
EOF
    serve_args+=(--zoo "$work/zoo.json")
fi
[ -n "${LOAD_CONCURRENCY:-}" ] && serve_args+=(--concurrency "$LOAD_CONCURRENCY")

"$EXPLAIN" serve --port 0 --models "$model" --max-body-mb "$BODY_LIMIT_MB" --request-timeout "$REQUEST_TIMEOUT" \
    "${serve_args[@]}" > "$work/server.log" 2>&1 &
server=$!

# Ready once it logs its port and answers GET /models (loading the model takes a moment).
port=
for _ in $(seq 600); do
    kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; echo "load_test: the server exited at start-up" >&2; exit 2; }
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$work/server.log" | head -n 1)
    [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/models" > /dev/null && break
    port=
    sleep 0.1
done
[ -n "$port" ] || { cat "$work/server.log" >&2; echo "load_test: the server did not become ready in 60 s" >&2; exit 2; }
url=http://127.0.0.1:$port
echo "load_test: explain serve (pid $server) on $url, model $model, body limit $BODY_LIMIT_MB MB, $(nproc) cores"

# kB of the server's VmHWM (peak) or VmRSS (now); 0 once it is gone.
memory() { awk -v key="$1:" '$1 == key { print $2 }' "/proc/$server/status" 2>/dev/null || echo 0; }
# Runs wrk into the file $1 with the other arguments; stops the test if wrk fails.
run_wrk() {
    local out=$1
    shift
    if ! wrk "$@" > "$out" 2>&1 || ! grep -q '^RESULT' "$out"; then
        cat "$out" >&2
        echo "load_test: FAIL: wrk $* did not complete" >&2
        exit 1
    fi
}
# A value of the RESULT line of a wrk output file.
result() { grep '^RESULT' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
mb() { echo $(( $1 / 1024 )); }

# Waits until the server is idle: wrk stops with requests in flight, which the server still
# explains, and they would crowd the queue of the next run. A probe that waited less than
# 5 ms for a slot found nobody ahead of it.
settle() {
    local queue_ms
    for _ in $(seq 100); do
        queue_ms=$(curl -sf --max-time "$REQUEST_TIMEOUT" -H 'Content-Type: image/png' --data-binary "@$PNG" "$url/explain?top_k=1" |
            sed -n 's/.*"queue_ms":\([0-9.]*\).*/\1/p')
        [ -n "$queue_ms" ] && awk -v q="$queue_ms" 'BEGIN { exit !(q < 5) }' && return
        sleep 0.2
    done
    fail "the server was not idle before a run"
}

# Adds the table row of a wrk run and sets `errors` (socket errors and timeouts).
rows=()
errors=0
row() {  # output name connections peak-before bad
    local out=$1
    errors=$(( $(result "$out" connect_errors) + $(result "$out" read_errors) + $(result "$out" write_errors) + $(result "$out" timeouts) ))
    rows+=("$(printf '%-14s %5s %9s %9s %8s %8s %8s %7s %9s %6s→%s' "$2" "$3" "$(result "$out" requests)" \
        "$(result "$out" rps)" "$(result "$out" p50_ms)" "$(result "$out" p90_ms)" "$(result "$out" p99_ms)" \
        "$errors" "$5" "$(mb "$4")" "$(mb "$(memory VmHWM)")")")
}

for connections in $CONNECTIONS; do
    out=$work/phase1-$connections.txt
    settle
    peak=$(memory VmHWM)
    echo "load_test: phase 1, $connections connections, ${DURATION} s"
    run_wrk "$out" -t "$(( connections < 2 ? connections : 2 ))" -c "$connections" -d "${DURATION}s" --timeout "${REQUEST_TIMEOUT}s" --latency \
        -s scripts/load/post_image.lua "$url/explain?top_k=3" -- "$PNG" image/png
    non2xx=$(result "$out" status_4xx_5xx)
    row "$out" explain "$connections" "$peak" "$non2xx"
    [ "$(result "$out" requests)" -gt 0 ] || fail "phase 1 at $connections connections: no request answered"
    [ "$errors" -eq 0 ] || fail "phase 1 at $connections connections: $errors socket errors or timeouts"
    [ "$non2xx" -eq 0 ] || fail "phase 1 at $connections connections: $non2xx answers were not 2xx"
done

out=$work/phase2.txt
settle
peak=$(memory VmHWM)
echo "load_test: phase 2, mixed traffic, $MIXED_CONNECTIONS connections, ${MIXED_DURATION} s"
# One connection per thread: mixed.lua matches each response with the request it answers.
run_wrk "$out" -t "$MIXED_CONNECTIONS" -c "$MIXED_CONNECTIONS" -d "${MIXED_DURATION}s" --timeout "${REQUEST_TIMEOUT}s" --latency \
    -s scripts/load/mixed.lua "$url" -- "$PNG" "$JPEG" "$(( BODY_LIMIT_MB * 1024 * 1024 ))"
unexpected=$(sed -n 's/^MIXED unexpected=\([0-9]*\).*/\1/p' "$out")
lost=$(sed -n 's/^MIXED .*lost=\([0-9]*\).*/\1/p' "$out")
stalled=$(sed -n 's/^MIXED .*stalled=\([0-9]*\).*/\1/p' "$out")
row "$out" mixed "$MIXED_CONNECTIONS" "$peak" "${unexpected:-?}"
[ -n "$unexpected" ] || fail "phase 2: no tally from mixed.lua"
[ "$errors" -eq 0 ] || fail "phase 2: $errors socket errors or timeouts"
[ "${unexpected:-1}" -eq 0 ] || fail "phase 2: $unexpected answers with an unexpected status"
[ "${lost:-1}" -eq 0 ] || fail "phase 2: $lost requests without an answer"
[ "${stalled:-1}" -eq 0 ] || fail "phase 2: $stalled connections got no answer in the last 10 s"

alive=yes
if ! kill -0 "$server" 2>/dev/null; then
    alive=no; fail "the server is no longer running"
elif ! curl -sf --max-time 10 "$url/models" > /dev/null; then
    alive=no; fail "the server no longer answers GET /models"
fi

echo
echo "phase: requests/s and latency percentiles from wrk; errors = socket errors + timeouts;"
echo "bad = non-2xx answers (explain) or answers whose status is not that of their kind (mixed); peak RSS = VmHWM"
printf '%-14s %5s %9s %9s %8s %8s %8s %7s %9s %s\n' phase conns requests req/s p50_ms p90_ms p99_ms errors bad "peak RSS MB"
printf '%s\n' "${rows[@]}"
echo
echo "mixed traffic, statuses per kind (status:count):"
sed -n 's/^KIND \([a-z_]*\) expected=\([0-9]*\) sent=\([0-9]*\) got=\(.*\)/\1 \2 \3 \4/p' "$out" |
    awk '{ printf "  %-18s expected %s  sent %6s  got %s\n", $1, $2, $3, $4 }'
echo "server alive and answering GET /models: $alive; RSS now $(mb "$(memory VmRSS)") MB"

if [ ${#failures[@]} -gt 0 ]; then
    echo
    printf 'FAIL: %s\n' "${failures[@]}"
    echo "server log (last lines):"
    tail -n 20 "$work/server.log"
    exit 1
fi
echo "load_test: OK"
