#!/usr/bin/env bash
# Regenerates Sources/CAMKit/ONNX/Proto/onnx.pb.swift from the onnx.proto beside it.
#
# Not run by CI or the build: the generated file is committed. Run it after replacing
# onnx.proto (taken unchanged from the PyPI `onnx` wheel, `onnx/onnx.proto`; Apache-2.0, see
# LICENSE beside it; currently onnx 1.23.2) or after moving to another swift-protobuf version.
#
# Needs protoc (Debian: protobuf-compiler) and protoc-gen-swift of the swift-protobuf version
# Package.resolved pins. PROTOC_GEN_SWIFT may name the plugin; otherwise it is built from the
# package's own swift-protobuf checkout (`swift build -c release --product protoc-gen-swift`,
# about ten minutes on two cores).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
command -v protoc >/dev/null || { echo "generate_onnx_proto.sh: protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }

plugin=${PROTOC_GEN_SWIFT:-}
if [ -z "$plugin" ]; then
    swift build -c release --product protoc-gen-swift
    plugin="$(swift build -c release --show-bin-path)/protoc-gen-swift"
fi

dir=Sources/CAMKit/ONNX/Proto
# Internal visibility: the reader turns the messages into plain Swift values, so no protobuf
# type is part of CAMKit's API.
protoc --plugin=protoc-gen-swift="$plugin" --proto_path="$dir" \
    --swift_out="$dir" --swift_opt=Visibility=Internal "$dir/onnx.proto"
echo "wrote $dir/onnx.pb.swift with $("$plugin" --version)"
