"""Time the reference frameworks on the two zoo models, to set next to `explain bench --model`.

- efficientnet-lite0: efficientnet-lite-pytorch (PyTorch), 224 × 224
- mobilenetv2-dogs19: Keras 3 with the torch backend loading the .h5, 160 × 160

Measurements (batch 1, seeded input, median of --repeats after 2 warm-up runs):
  forward           inference only (torch.inference_mode / Keras training=False under no_grad)
  forward+gradient  forward, then backward of the top-1 (pre-softmax) logit to the default
                    Grad-CAM layer with the parameters frozen (requires_grad False), so the
                    backward stops at that layer as in CAMKit

Needs the weights (`make models`). Run from the repo root:
  python scripts/reference/bench_real_models.py [--threads 2] [--repeats 10] [--swift]
With --swift it also runs `swift run -c release explain bench --model NAME --json` in the same
session and prints both side by side.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
# OpenMP threads that spin while waiting make torch 10-50x slower when other processes share
# the cores; passive waiting keeps the figures meaningful on a busy machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
REPO = HERE.parent.parent

import torch  # noqa: E402

from make_real_model_fixtures import EFFNET_WEIGHTS, KERAS_WEIGHTS, keras_model  # noqa: E402
from seeded_weights import seeded_input  # noqa: E402


def timed(fn, repeats):
    for _ in range(2):
        fn()
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1e3)
    return statistics.median(out), min(out)


def bench_effnet(repeats):
    from efficientnet_lite_pytorch import EfficientNet
    model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(EFFNET_WEIGHTS)).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    x = torch.from_numpy(seeded_input((1, 3, 224, 224)))

    def forward():
        with torch.inference_mode():
            model(x)

    def gradient():
        features = model.extract_features(x)
        features.requires_grad_(True) if not features.requires_grad else None
        features.retain_grad()
        logits = model._fc(model._avg_pooling(features).flatten(1))
        logits[0, int(logits[0].argmax())].backward()

    return {"forward": timed(forward, repeats), "forward+gradient": timed(gradient, repeats)}


def bench_keras(repeats):
    model = keras_model()
    backbone = model.get_layer("mobilenetv2_1.00_160")
    dense = model.get_layer("dense")
    for v in model.weights:
        v.value.requires_grad_(False)
    x = torch.from_numpy(seeded_input((1, 3, 160, 160))).permute(0, 2, 3, 1).contiguous()
    kernel, bias = torch.as_tensor(dense.kernel.value), torch.as_tensor(dense.bias.value)

    def forward():
        with torch.no_grad():
            model(x, training=False)

    def gradient():
        features = backbone(x, training=False)
        features.requires_grad_(True) if not features.requires_grad else None
        features.retain_grad()
        logits = features.mean(dim=(1, 2)) @ kernel + bias
        logits[0, int(logits[0].argmax())].backward()

    return {"forward": timed(forward, repeats), "forward+gradient": timed(gradient, repeats)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--swift", action="store_true", help="also run the Swift benchmark")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for name, impl, fn in (("efficientnet-lite0", "torch (efficientnet-lite-pytorch)", bench_effnet),
                           ("mobilenetv2-dogs19", "keras 3 / torch backend", bench_keras)):
        for what, (median, minimum) in fn(args.repeats).items():
            rows.append(dict(model=name, impl=impl, measurement=what, median_ms=median, min_ms=minimum))
    if args.swift:
        for name in ("efficientnet-lite0", "mobilenetv2-dogs19"):
            out = subprocess.run(["swift", "run", "-c", "release", "explain", "bench", "--model", name,
                                  "--repeats", str(args.repeats), "--json"], cwd=REPO, capture_output=True, text=True, check=True)
            for line in out.stdout.splitlines():
                if line.startswith("{"):
                    r = json.loads(line)
                    rows.append(dict(model=name, impl="CAMKit (Swift)", measurement=r["measurement"],
                                     median_ms=r["median_ms"], min_ms=r["min_ms"]))
    print(f"{'model':20} {'implementation':34} {'measurement':18} {'median ms':>10} {'min ms':>8}")
    for r in rows:
        print(f"{r['model']:20} {r['impl']:34} {r['measurement']:18} {r['median_ms']:10.1f} {r['min_ms']:8.1f}")


if __name__ == "__main__":
    main()
