#!/usr/bin/env bash
# Peak memory and time of `explain gallery` over N synthetic photos, for each N given
# (default 50 and 500), and the difference in peak RSS between the first and the last N:
# a gallery's memory must stay flat as the number of photos grows.
#
#   scripts/gallery_memory.sh [N ...]          (or `make gallery-memory`)
#
# Photos: scripts/synthetic_photos.py derives them from Fixtures/images/photo.png (500x375
# JPEGs, each cropped, flipped and tinted differently); it needs Pillow, taken from the
# reference venv ($VENV, `make venv`) or else the system python3.
# Model: $MODEL (default efficientnet-lite0); when its weights are missing, every model whose
# weights are present, and when there is none the script stops (`make models` fetches them).
# Peak RSS is GNU time's "Maximum resident set size" of the whole run. $EXPLAIN names an
# explain executable to measure instead of building the release one (e.g. an older build).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
COUNTS=("$@")
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(50 500)
for n in "${COUNTS[@]}"; do
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "gallery_memory: '$n' is not a positive number of photos" >&2; exit 2; }
done
MODEL="${MODEL:-efficientnet-lite0}"
VENV="${VENV:-$HOME/.cache/camkit/venv}"

[ -x /usr/bin/time ] || { echo "gallery_memory: /usr/bin/time is missing; install it with: apt-get install time" >&2; exit 2; }
PYTHON=python3
[ -x "$VENV/bin/python" ] && PYTHON="$VENV/bin/python"
"$PYTHON" -c "import PIL" 2>/dev/null || {
    echo "gallery_memory: $PYTHON has no Pillow; run \`make venv\` (or apt-get install python3-pil)" >&2; exit 2; }

if [ -z "${EXPLAIN:-}" ]; then
    swift build -c release --product explain >&2
    EXPLAIN="$ROOT/.build/release/explain"
fi

# `explain models` prints each name unindented, then "  weights  PATH (present|missing…)".
present=$("$EXPLAIN" models | awk '/^[^ ]/ { name = $1 } /^ +weights/ && /\(present\)/ { print name }')
if grep -qx "$MODEL" <<<"$present"; then
    models="$MODEL"
elif [ -n "$present" ]; then
    models=$(paste -sd, <<<"$present")
    echo "gallery_memory: no weights for $MODEL; measuring with $models instead" >&2
else
    echo "gallery_memory: no model has its weights; run \`make models\` first" >&2
    exit 2
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/gallery-memory.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

declare -A PEAK
printf '%-8s %-14s %-14s %-12s %s\n' photos "peak RSS MiB" "wall s" "s/photo" models
for n in "${COUNTS[@]}"; do
    "$PYTHON" scripts/synthetic_photos.py Fixtures/images/photo.png "$WORK/photos-$n" "$n"
    /usr/bin/time -v -o "$WORK/time-$n" "$EXPLAIN" gallery "$WORK/photos-$n" --models "$models" --out "$WORK/gallery-$n" >/dev/null
    kib=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/time-$n")
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$WORK/time-$n" \
        | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
    PEAK[$n]=$kib
    awk -v n="$n" -v kib="$kib" -v wall="$wall" -v models="$models" \
        'BEGIN { printf "%-8s %-14.1f %-14.1f %-12.3f %s\n", n, kib / 1024, wall, wall / n, models }'
    rm -rf "$WORK/photos-$n" "$WORK/gallery-$n"
done
first=${COUNTS[0]} last=${COUNTS[${#COUNTS[@]}-1]}
awk -v a="$first" -v b="$last" -v ka="${PEAK[$first]}" -v kb="${PEAK[$last]}" \
    'BEGIN { printf "peak RSS difference, %s vs %s photos: %+.1f MiB\n", b, a, (kb - ka) / 1024 }'
