#!/usr/bin/env bash
# Wall time and peak RSS of `explain gallery` over 25 synthetic 3-megapixel photos with both
# real models, for this checkout's explain and, side by side in the same run, an older one.
#
#   OLD_EXPLAIN=/path/to/old/explain scripts/gallery_speed.sh     (or `make gallery-speed`)
#
# Each round runs every explain once, one after the other (old first), so both see the same
# load; the medians over the rounds are compared. Without $OLD_EXPLAIN only this checkout's is
# measured. To build the baseline of issue 12 (commit 6e3d408):
#   git worktree add ../wt-old 6e3d408 && (cd ../wt-old && swift build -c release --product explain)
#   OLD_EXPLAIN=../wt-old/.build/release/explain scripts/gallery_speed.sh
#
# Settings (environment): ROUNDS (3), COUNT (25 photos), SIZE (2000x1500), MODELS
# (efficientnet-lite0,mobilenetv2-dogs19; `make models` fetches them), NEW_ARGS (extra options
# for this checkout's explain only, e.g. "--jobs 1"), EXPLAIN (an explain to measure instead of
# building the release one). Photos: scripts/synthetic_photos.py (needs Pillow, from the
# reference venv $VENV or the system python3). Peak RSS is GNU time's "Maximum resident set
# size" of the whole run.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
ROUNDS="${ROUNDS:-3}" COUNT="${COUNT:-25}" SIZE="${SIZE:-2000x1500}"
MODELS="${MODELS:-efficientnet-lite0,mobilenetv2-dogs19}"
VENV="${VENV:-$HOME/.cache/camkit/venv}"
for v in ROUNDS COUNT; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "gallery_speed: $v '${!v}' is not a positive number" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "gallery_speed: /usr/bin/time is missing; install it with: apt-get install time" >&2; exit 2; }
PYTHON=python3
[ -x "$VENV/bin/python" ] && PYTHON="$VENV/bin/python"
"$PYTHON" -c "import PIL" 2>/dev/null || {
    echo "gallery_speed: $PYTHON has no Pillow; run \`make venv\` (or apt-get install python3-pil)" >&2; exit 2; }
if [ -n "${OLD_EXPLAIN:-}" ] && [ ! -x "$OLD_EXPLAIN" ]; then
    echo "gallery_speed: OLD_EXPLAIN $OLD_EXPLAIN is not an executable" >&2; exit 2
fi

if [ -z "${EXPLAIN:-}" ]; then
    swift build -c release --product explain >&2
    EXPLAIN="$ROOT/.build/release/explain"
fi
missing=$("$EXPLAIN" models | awk -v want=",$MODELS," '/^[^ ]/ { name = $1 }
    /^ +weights/ && !/\(present\)/ && index(want, "," name ",") { print name }')
if [ -n "$missing" ]; then
    echo "gallery_speed: no weights for $(paste -sd, <<<"$missing"); run \`make models\` first" >&2; exit 2
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/gallery-speed.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
"$PYTHON" scripts/synthetic_photos.py Fixtures/images/photo.png "$WORK/photos" "$COUNT" --size "$SIZE"

# run NAME EXPLAIN [ARGS...]: one gallery; appends "NAME wall-seconds peak-KiB" to $WORK/runs.
run() {
    local name=$1 explain=$2
    shift 2
    rm -rf "$WORK/gallery"
    /usr/bin/time -v -o "$WORK/time" "$explain" gallery "$WORK/photos" --models "$MODELS" --out "$WORK/gallery" "$@" >/dev/null
    local kib wall
    kib=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/time")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$WORK/time" \
        | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
    echo "$name $wall $kib" >>"$WORK/runs"
    awk -v n="$name" -v r="$round" -v w="$wall" -v k="$kib" 'BEGIN { printf "%-6s %-8s %-10.2f %.1f\n", n, r, w, k / 1024 }' >&2
}

printf '%-6s %-8s %-10s %s\n' run round "wall s" "peak RSS MiB" >&2
for round in $(seq "$ROUNDS"); do
    [ -n "${OLD_EXPLAIN:-}" ] && run old "$OLD_EXPLAIN"
    # shellcheck disable=SC2086  # NEW_ARGS is a list of options
    run new "$EXPLAIN" ${NEW_ARGS:-}
done

echo "$COUNT photos of $SIZE x $MODELS, $ROUNDS round(s), medians; new: $EXPLAIN ${NEW_ARGS:-}${OLD_EXPLAIN:+; old: $OLD_EXPLAIN}"
awk '
    { wall[$1] = wall[$1] " " $2; peak[$1] = peak[$1] " " $3 }
    function median(list,   v, n, i, j, t) {
        n = split(list, v, " ")
        for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
        return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    END {
        printf "%-6s %-10s %s\n", "", "wall s", "peak RSS MiB"
        for (name in wall) { w[name] = median(wall[name]); p[name] = median(peak[name]) / 1024; printf "%-6s %-10.2f %.1f\n", name, w[name], p[name] }
        if ("old" in w) printf "new/old: wall %.2fx (target <= 0.35x), peak RSS %.2fx (target <= 1.5x)\n", w["new"] / w["old"], p["new"] / p["old"]
    }' "$WORK/runs"
