#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of Fuzz/ (docs/FUZZING.md).
#
#   scripts/fuzz.sh build                  build every fuzzer (ASan + libFuzzer, debug)
#   scripts/fuzz.sh run FUZZER SECONDS     run one fuzzer for SECONDS
#   scripts/fuzz.sh smoke SECONDS          run every fuzzer for SECONDS each, print a table,
#                                          exit non-zero if any crashed, hung or ran out of memory
#
# Everything it writes is under .build-fuzz/ (git-ignored): seeds/ (rebuilt from the committed
# fixtures on every run), corpus/ (kept between runs, so fuzzing resumes), artifacts/ (crashing
# inputs) and logs/. Readers that take a path read a scratch file under /dev/shm (else
# .build-fuzz/tmp), removed after the run.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"

FUZZERS=(fuzz-image fuzz-safetensors fuzz-torch-checkpoint fuzz-unpickler fuzz-keras-hdf5
         fuzz-zoo-file fuzz-labels-csv fuzz-onnx)
WORK=.build-fuzz
BIN="$WORK/debug"

# Largest input per fuzzer: a little above the largest seed, so mutations can grow a seed
# but each run stays fast.
max_len() {
    case "$1" in
        fuzz-image) echo 8192 ;;
        fuzz-safetensors) echo 8192 ;;
        fuzz-torch-checkpoint) echo 16384 ;;
        fuzz-unpickler) echo 8192 ;;
        fuzz-keras-hdf5) echo 36864 ;;
        fuzz-zoo-file | fuzz-labels-csv) echo 4096 ;;
        fuzz-onnx) echo 8192 ;;
    esac
}

# Dictionaries of tokens for the mutator.
dictionary() {
    case "$1" in
        fuzz-image) echo Fuzz/dicts/image.dict ;;
        fuzz-safetensors | fuzz-zoo-file) echo Fuzz/dicts/json.dict ;;
        fuzz-torch-checkpoint | fuzz-unpickler) echo Fuzz/dicts/pickle.dict ;;
        fuzz-keras-hdf5) echo Fuzz/dicts/hdf5.dict ;;
        fuzz-labels-csv) echo Fuzz/dicts/csv.dict ;;
        fuzz-onnx) echo Fuzz/dicts/onnx.dict ;;
    esac
}

# LeakSanitizer for the fuzzers that read from memory. The ones that read a path go through
# Foundation code that leaks on its own (Swift 6.3): Data(contentsOf:) of an empty file keeps its
# 4 KB buffer, and FileManager.fileSystemRepresentation (called by ZIPFoundation) is never freed.
# Their memory growth is still caught by -rss_limit_mb and -malloc_limit_mb.
leak_detection() {
    case "$1" in
        fuzz-torch-checkpoint | fuzz-keras-hdf5 | fuzz-zoo-file | fuzz-onnx) echo 0 ;;
        *) echo 1 ;;
    esac
}

# Copies the committed files that seed FUZZER into $WORK/seeds/FUZZER, skipping those longer
# than its max_len (libFuzzer would only see their beginning).
make_seeds() {
    local fuzzer=$1 limit dir
    limit=$(max_len "$fuzzer")
    dir="$WORK/seeds/$fuzzer"
    rm -rf "$dir" && mkdir -p "$dir"
    local files=()
    case "$fuzzer" in
        fuzz-image) files=(Fixtures/images/decode/*.jpg Fixtures/images/decode/*.png Fixtures/images/photo.png) ;;
        fuzz-safetensors) files=(Fixtures/weights/*.safetensors Fixtures/real/*.safetensors Fixtures/checkpoints/*.safetensors) ;;
        fuzz-torch-checkpoint) files=(Fixtures/weights/*.pth Fixtures/weights/*.zip Fixtures/real/*.pth) ;;
        fuzz-unpickler)
            # The pickles inside the zip checkpoints, and the legacy file (a pickle stream).
            for pth in Fixtures/weights/*.pth; do
                unzip -Z1 "$pth" 2>/dev/null | grep '/data\.pkl$' | while read -r entry; do
                    unzip -p "$pth" "$entry" >"$dir/$(basename "$pth" .pth).pkl"
                done
            done
            files=(Fixtures/real/legacy_state_dict.pth)
            ;;
        # Keras 2 and 3 layouts, every HDF5 structure the reader knows, a .keras archive, and
        # the hostile samples.
        fuzz-keras-hdf5) files=(Fixtures/weights/*.h5 Fixtures/hdf5/*.h5 Fixtures/hdf5/*.keras Fixtures/malicious/*.h5) ;;
        fuzz-zoo-file) files=(Fuzz/seeds/fuzz-zoo-file/*) ;;
        fuzz-labels-csv) files=(Fuzz/seeds/fuzz-labels-csv/*) ;;
        # Built from the generated messages (LeakSanitizer would count the seed writer's globals),
        # and the small models the importer refuses or runs, which take the fuzzer into the import.
        fuzz-onnx)
            files=(Fixtures/onnx-invalid/*.onnx)
            ASAN_OPTIONS=detect_leaks=0 "$BIN/fuzz-onnx" --write-seeds "$dir"
            ;;
    esac
    for f in "${files[@]}"; do
        [ -f "$f" ] && [ "$(stat -c %s "$f")" -le "$limit" ] && cp "$f" "$dir/"
    done
    # Regression inputs of past crashes stay in every run's seeds.
    if [ -d "Fixtures/fuzz-regressions/$fuzzer" ]; then
        cp Fixtures/fuzz-regressions/"$fuzzer"/* "$dir/" 2>/dev/null || true
    fi
}

# Product by product: a plain `swift build` would also link the executables of CAMKit and its
# dependencies with -sanitize=fuzzer, which fails for want of LLVMFuzzerTestOneInput. The C
# targets (CImageCodecs) get the same instrumentation through -Xcc.
build() {
    local fuzzer
    for fuzzer in "$@"; do
        swift build --package-path Fuzz --scratch-path "$WORK" -c debug --product "$fuzzer" \
            -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address 2>&1 |
            grep -v "Cannot export local symbol" || true
        [ -x "$BIN/$fuzzer" ] || { echo "fuzz.sh: $BIN/$fuzzer was not built" >&2; exit 1; }
    done
}

known() {
    [[ " ${FUZZERS[*]} " == *" $1 "* ]] || { echo "fuzz.sh: unknown fuzzer '$1' (fuzzers: ${FUZZERS[*]})" >&2; exit 2; }
}

# Runs one fuzzer; prints "executions exec/s corpus crashes" on the last line of stdout. A
# crash is any crashing, hanging, leaking or out-of-memory input.
run_one() {
    local fuzzer=$1 seconds=$2
    make_seeds "$fuzzer"
    local corpus="$WORK/corpus/$fuzzer" artifacts="$WORK/artifacts/$fuzzer" log="$WORK/logs/$fuzzer.log"
    # The readers that take a path get a file rewritten per input; on tmpfs, because on a disk
    # mounted with `discard` every truncation waits for the device.
    local scratch="$PWD/$WORK/tmp/$fuzzer"
    [ -d /dev/shm ] && [ -w /dev/shm ] && scratch="/dev/shm/camkit-fuzz-$fuzzer-$$"
    mkdir -p "$corpus" "$artifacts" "$WORK/logs"
    rm -rf "$scratch" && mkdir -p "$scratch"
    local status=0
    touch "$log.start"
    local limits=(-max_len="$(max_len "$fuzzer")" -timeout=20 -rss_limit_mb=2048 -malloc_limit_mb=1024)
    local options=(-max_total_time="$seconds" -artifact_prefix="$artifacts/" -print_final_stats=1)
    local dict
    dict=$(dictionary "$fuzzer")
    [ -z "$dict" ] || options+=(-dict="$dict")
    # SWIFT_BACKTRACE: Swift's own crash backtracer would race libFuzzer's handler for the trap.
    local environment=(TMPDIR="$scratch" SWIFT_BACKTRACE=enable=no
                       ASAN_OPTIONS="detect_leaks=$(leak_detection "$fuzzer"):${ASAN_OPTIONS:-}")
    env "${environment[@]}" "$BIN/$fuzzer" "${limits[@]}" "${options[@]}" "$corpus" "$WORK/seeds/$fuzzer" >"$log" 2>&1 || status=$?
    local executions rate size crashes=0
    executions=$(awk '/^stat::number_of_executed_units:/ { n = $2 } END { print n + 0 }' "$log")
    rate=$(awk '/^stat::average_exec_per_sec:/ { n = $2 } END { print n + 0 }' "$log")
    size=$(find "$corpus" -type f | wc -l)
    # libFuzzer stops at the first failing input, so the log holds its report.
    if [ -n "$(find "$artifacts" -type f -newer "$log.start")" ]; then
        crashes=1
        echo "fuzz.sh: $fuzzer: an input fails; see $log:" >&2
        grep -E '^(==[0-9]+== ?ERROR|SUMMARY|Fatal error|.*Fatal error)' "$log" | head -3 >&2 || true
        find "$artifacts" -type f -newer "$log.start" >&2
    fi
    rm -rf "$scratch" "$log.start"
    if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then
        echo "fuzz.sh: $fuzzer exited with status $status without an artifact; see $log" >&2
        crashes=1
    fi
    echo "$executions $rate $size $crashes"
}

command=${1:-}
case "$command" in
    build)
        build "${FUZZERS[@]}"
        ;;
    run)
        [ $# -eq 3 ] || { echo "usage: scripts/fuzz.sh run FUZZER SECONDS" >&2; exit 2; }
        known "$2"
        [[ $3 =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a whole number, got '$3'" >&2; exit 2; }
        build "$2"
        read -r executions rate size crashes < <(run_one "$2" "$3" | tail -1)
        echo "$2: $executions executions ($rate/s), corpus $size inputs, $crashes crashes (log .build-fuzz/logs/$2.log)"
        [ "$crashes" -eq 0 ]
        ;;
    smoke)
        [ $# -eq 2 ] || { echo "usage: scripts/fuzz.sh smoke SECONDS" >&2; exit 2; }
        [[ $2 =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a whole number, got '$2'" >&2; exit 2; }
        build "${FUZZERS[@]}"
        rows=() failed=0
        for fuzzer in "${FUZZERS[@]}"; do
            echo "fuzzing $fuzzer for $2 s"
            read -r executions rate size crashes < <(run_one "$fuzzer" "$2" | tail -1)
            rows+=("$(printf '%-22s %12s %8s %8s %8s' "$fuzzer" "$executions" "$rate" "$size" "$crashes")")
            [ "$crashes" -eq 0 ] || failed=1
        done
        printf '%-22s %12s %8s %8s %8s\n' fuzzer executions exec/s corpus crashes
        printf '%s\n' "${rows[@]}"
        exit "$failed"
        ;;
    *)
        echo "usage: scripts/fuzz.sh build | run FUZZER SECONDS | smoke SECONDS" >&2
        exit 2
        ;;
esac
