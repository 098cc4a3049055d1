#!/bin/sh
# Times gelu, layerNorm2d and GRN in CAMKit (release) and in PyTorch with 2 threads, back to back.
# Extra arguments go to `swift build`, e.g. `-Xswiftc -target-cpu -Xswiftc znver4`.
# (`CAMKit` here is a symlink to the repository root: SwiftPM names path packages after the directory.)
set -e
cd "$(dirname "$0")"
swift build -c release "$@" >/dev/null
"$(swift build -c release "$@" --show-bin-path)/DenseBench"
"${CAMKIT_PYTHON:-/root/.cache/camkit/venv/bin/python}" torch_dense.py
