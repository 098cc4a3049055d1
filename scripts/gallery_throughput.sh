#!/usr/bin/env bash
# Photos per second per core of `explain gallery`, for each real model, and the merge's own cost:
# the figures the README's cost of a large gallery is computed from.
#
#   scripts/gallery_throughput.sh [PHOTOS_DIR]      (or `make gallery-throughput`)
#
# The pictures of PHOTOS_DIR (default ../shared/images) are linked COUNT times under other names,
# so that start-up and model loading weigh little. For each model, ROUNDS galleries over them
# pinned to one core (taskset, --threads 1 --jobs 1), so the rate is per core whatever else runs
# on the machine; the best round is kept, as the least disturbed by other work. Then one gallery
# on every core (the defaults: --threads and --jobs one per core): its rate divided by the cores
# shows what running several photos at once gains or loses. Last, the same photos in 4 shards
# with the first model, and `explain gallery merge` of them timed alone. The load average is
# printed before and after: numbers taken under load are lower than on a quiet machine.
#
# Settings (environment): MODELS (efficientnet-lite0 mobilenetv2-dogs19; `make models`),
# COUNT (200), ROUNDS (3), EXPLAIN (an explain to measure instead of building the release one).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PHOTOS="${1:-$ROOT/../shared/images}"
MODELS="${MODELS:-efficientnet-lite0 mobilenetv2-dogs19}"
COUNT="${COUNT:-200}" ROUNDS="${ROUNDS:-3}"
for v in COUNT ROUNDS; do
    [[ "${!v}" =~ ^[1-9][0-9]*$ ]] || { echo "gallery_throughput: $v '${!v}' is not a positive number" >&2; exit 2; }
done
[ -d "$PHOTOS" ] || { echo "gallery_throughput: no folder $PHOTOS; give a folder of photos" >&2; exit 2; }
command -v taskset >/dev/null || { echo "gallery_throughput: taskset is missing (util-linux)" >&2; exit 2; }

if [ -z "${EXPLAIN:-}" ]; then
    swift build -c release --product explain >&2
    EXPLAIN="$ROOT/.build/release/explain"
fi
for model in $MODELS; do
    "$EXPLAIN" models | awk -v m="$model" '/^[^ ]/ { name = $1 } name == m && /^ +weights/ && /\(present\)/ { found = 1 } END { exit !found }' \
        || { echo "gallery_throughput: no weights for $model; run \`make models\` first" >&2; exit 2; }
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/gallery-throughput.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
cores=$(nproc)
first=${MODELS%% *}

# seconds CMD...: wall seconds of CMD, its stdout dropped.
seconds() {
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }'
}

# The pictures the gallery finds in PHOTOS (as it finds them: by content), linked COUNT times.
"$EXPLAIN" gallery "$PHOTOS" --models "$first" --out "$WORK/probe" >/dev/null
mapfile -t files < <(awk -F, 'NR > 1 && $1 != "" { print $1 }' "$WORK/probe/results.csv")
mkdir -p "$WORK/photos"
for n in $(seq 0 $((COUNT - 1))); do
    f=${files[$((n % ${#files[@]}))]}
    ln "$PHOTOS/$f" "$WORK/photos/$(printf '%06d' "$n")-$f" 2>/dev/null || cp "$PHOTOS/$f" "$WORK/photos/$(printf '%06d' "$n")-$f"
done

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($cores cores); $COUNT photos: ${#files[@]} pictures of $PHOTOS"
printf '%-20s %11s %14s %22s\n' model "s (1 core)" "photos/s/core" "photos/s/core on $cores"
for model in $MODELS; do
    times=()
    for _ in $(seq "$ROUNDS"); do
        rm -rf "$WORK/out"
        times+=("$(seconds taskset -c 0 "$EXPLAIN" gallery "$WORK/photos" --models "$model" --threads 1 --jobs 1 --out "$WORK/out")")
    done
    best=$(printf '%s\n' "${times[@]}" | sort -g | head -1)
    rm -rf "$WORK/out"
    all=$(seconds "$EXPLAIN" gallery "$WORK/photos" --models "$model" --out "$WORK/out")
    awk -v m="$model" -v n="$COUNT" -v s="$best" -v a="$all" -v c="$cores" \
        'BEGIN { printf "%-20s %11.2f %14.2f %22.2f\n", m, s, n / s, n / a / c }'
done

for k in 0 1 2 3; do
    "$EXPLAIN" gallery "$WORK/photos" --models "$first" --threads 1 --jobs 1 --shard "$k/4" --out "$WORK/shards/$k" >/dev/null &
done
wait
merge=$(seconds "$EXPLAIN" gallery merge "$WORK/merged" "$WORK"/shards/*)
awk -v n="$COUNT" -v s="$merge" -v m="$first" \
    'BEGIN { printf "merge of %d photos (%s, 4 shards): %.2f s, %.2f ms per photo\n", n, m, s, 1000 * s / n }'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
