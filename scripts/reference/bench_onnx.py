"""Time imported-ONNX work against torch, pytorch-grad-cam and onnxruntime in the same run.

Models: timm `resnet50` and `vit_base_patch16_224`, seeded weights v1 (Fixtures/README.md; no
download), 224 x 224, batch 1, the seeded input. Both are exported once with the default (dynamo)
exporter, `torch.onnx.export(model, (x,), path)`, into ~/.cache/camkit/bench/ (CAMKIT_BENCH to
change it; not committed) and reused while the sidecar `<model>.onnx.json` says they were written by
the same torch/timm/onnxscript and weights.

Measurements (median and min of --repeats after --warmup runs, --threads threads):
  torch forward          model(x) under torch.inference_mode()
  torch + grad-cam       one pytorch-grad-cam 1.5.7 GradCAM call, cam(input_tensor=x, targets=None)
                         (top-1, raw logit), at the layer our default picks: resnet50 `layer4` (last
                         spatial map before pooling), vit `blocks.11.norm1` (the last block's
                         normalised attention input, with the documented reshape_transform: drop the
                         class token, 14 x 14 grid). The
                         GradCAM object is built once; parameters keep requires_grad as the library
                         leaves them, so its backward runs through the whole network.
  onnxruntime forward    InferenceSession(intra_op_num_threads=--threads, inter_op 1).run on the file
With --swift PATH (the `explain` binary) it also runs, with CAMKIT_THREADS=--threads,
  PATH bench-onnx MODEL.onnx --repeats N --json
which prints one JSON line {"model": ..., "forward_ms": median, "gradcam_ms": median}; if the
binary or that command is missing the Swift columns say why and the rest is still printed.

OMP_WAIT_POLICY=PASSIVE as in bench_real_models.py (spinning OpenMP threads distort timings on a
shared machine). Run from the repo root:
  python scripts/reference/bench_onnx.py [--repeats 10] [--threads 2] [--swift .build/release/explain] [--json out.jsonl]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from importlib.metadata import version
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TQDM_DISABLE", "1")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
REPO = HERE.parent.parent
BENCH = Path(os.environ.get("CAMKIT_BENCH", Path.home() / ".cache" / "camkit" / "bench"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from seeded_weights import seeded_input, seeded_state_dict  # noqa: E402

SIZE = 224
MODELS = {
    "resnet50": dict(timm="resnet50", layer="layer4", reshape=None),
    "vit_base_patch16_224": dict(timm="vit_base_patch16_224", layer="blocks.11.norm1", reshape=(1, 14, 14)),
}


def build(name: str):
    import timm
    model = timm.create_model(MODELS[name]["timm"], pretrained=False)
    model.load_state_dict(seeded_state_dict(model, 0), strict=True)
    return model.eval()


def stamp(name: str) -> dict:
    return {"model": MODELS[name]["timm"], "weights": "seeded weights v1, seed 0", "input": [1, 3, SIZE, SIZE],
            "exporter": "dynamo (torch.onnx.export default)", "torch": torch.__version__.split("+")[0],
            "timm": version("timm"), "onnxscript": version("onnxscript"), "onnx_ir": version("onnx-ir")}


def ensure_onnx(name: str, model, x) -> Path:
    BENCH.mkdir(parents=True, exist_ok=True)
    path = BENCH / f"{name}.onnx"
    side = BENCH / f"{name}.onnx.json"
    want = stamp(name)
    if path.exists() and side.exists() and json.loads(side.read_text()) == want:
        print(f"  {path} reused", flush=True)
        return path
    print(f"  exporting {path} ...", flush=True)
    t = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=BENCH) as tmp:
        tmp_path = Path(tmp) / path.name  # the .data file is named after the model file
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (x,), str(tmp_path))
        for p in Path(tmp).iterdir():
            os.replace(p, BENCH / p.name)
    side.write_text(json.dumps(want, indent=1, sort_keys=True) + "\n")
    print(f"  exported in {time.perf_counter() - t:.0f} s", flush=True)
    return path


def timed(fn, repeats: int, warmup: int) -> dict:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1e3)
    return {"median_ms": statistics.median(out), "min_ms": min(out)}


def reshape_transform(prefix: int, h: int, w: int):
    def f(tensor):
        result = tensor[:, prefix:, :].reshape(tensor.size(0), h, w, tensor.size(2))
        return result.transpose(2, 3).transpose(1, 2)
    return f


def bench_torch(name: str, model, x, args) -> dict:
    from pytorch_grad_cam import GradCAM
    spec = MODELS[name]

    def forward():
        with torch.inference_mode():
            model(x)

    modules = dict(model.named_modules())
    cam = GradCAM(model=model, target_layers=[modules[spec["layer"]]],
                  reshape_transform=reshape_transform(*spec["reshape"]) if spec["reshape"] else None)
    try:
        gradcam = timed(lambda: cam(input_tensor=x, targets=None), args.repeats, args.warmup)
    finally:
        cam.activations_and_grads.release()
    return {"torch forward": timed(forward, args.repeats, args.warmup), "torch + grad-cam": gradcam}


def bench_ort(path: Path, x, args, ref) -> tuple[dict, float]:
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = args.threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    feed = {sess.get_inputs()[0].name: x.numpy()}
    diff = float(np.abs(sess.run(None, feed)[0] - ref).max())
    return {"onnxruntime forward": timed(lambda: sess.run(None, feed), args.repeats, args.warmup)}, diff


def bench_swift(binary: str, path: Path, args) -> tuple[dict, str | None]:
    exe = Path(binary)
    if not exe.exists():
        return {}, f"{binary} not found (build it: swift build -c release --product explain)"
    env = dict(os.environ, CAMKIT_THREADS=str(args.threads))
    cmd = [str(exe), "bench-onnx", str(path), "--repeats", str(args.repeats), "--json"]
    try:
        out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=args.swift_timeout)
    except subprocess.TimeoutExpired:
        return {}, f"`{' '.join(cmd)}` timed out after {args.swift_timeout} s"
    if out.returncode != 0:
        err = (out.stderr.strip().splitlines() or out.stdout.strip().splitlines() or ["no output"])[-1]
        return {}, f"`explain bench-onnx` failed (exit {out.returncode}: {err[:200]}); does this build have the command yet?"
    for line in out.stdout.splitlines():
        line = line.strip()
        if line.startswith("{"):
            r = json.loads(line)
            try:
                return {"swift forward": {"median_ms": float(r["forward_ms"])},
                        "swift grad-cam": {"median_ms": float(r["gradcam_ms"])}}, None
            except (KeyError, TypeError, ValueError):
                return {}, f"unexpected JSON from explain bench-onnx: {line[:200]}"
    return {}, "explain bench-onnx printed no JSON line"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--models", default=",".join(MODELS), help=f"comma-separated, from {', '.join(MODELS)}")
    ap.add_argument("--swift", metavar="EXPLAIN", help="path of the explain binary, e.g. .build/release/explain")
    ap.add_argument("--swift-timeout", type=int, default=1800)
    ap.add_argument("--json", metavar="PATH", help="also write one JSON line per model")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    rows = []
    for name in args.models.split(","):
        print(f"{name}:", flush=True)
        model = build(name)
        x = torch.from_numpy(seeded_input((1, 3, SIZE, SIZE)))
        with torch.inference_mode():
            ref = model(x).numpy()
        path = ensure_onnx(name, model, x)
        r = {"model": name, "layer": MODELS[name]["layer"], "onnx": str(path), "threads": args.threads,
             "repeats": args.repeats}
        ort_times, diff = bench_ort(path, x, args, ref)
        r["ort_max_abs_diff_logits"] = diff
        r.update(bench_torch(name, model, x, args))
        r.update(ort_times)
        if args.swift:
            swift, why = bench_swift(args.swift, path, args)
            r.update(swift)
            if why:
                r["swift_note"] = why
        rows.append(r)
        del model

    cols = ["torch forward", "onnxruntime forward", "torch + grad-cam", "swift forward", "swift grad-cam"]
    print()
    print(f"medians in ms, batch 1, {SIZE}x{SIZE}, {args.threads} threads, {args.repeats} repeats after {args.warmup} warm-up")
    head = f"{'model':22}{'layer':11}" + "".join(f"{c:>21}" for c in cols) + f"{'swift/torch fwd':>17}{'swift/ort fwd':>15}{'swift/torch cam':>17}"
    print(head)
    for r in rows:
        cell = lambda k: f"{r[k]['median_ms']:21.1f}" if k in r else f"{'-':>21}"  # noqa: E731
        ratio = lambda a, b: f"{r[a]['median_ms'] / r[b]['median_ms']:.2f}x" if a in r and b in r else "-"  # noqa: E731
        print(f"{r['model']:22}{r['layer']:11}" + "".join(cell(c) for c in cols)
              + f"{ratio('swift forward', 'torch forward'):>17}{ratio('swift forward', 'onnxruntime forward'):>15}"
              + f"{ratio('swift grad-cam', 'torch + grad-cam'):>17}")
    for r in rows:
        print(f"{r['model']}: max |onnxruntime - torch| logits = {r['ort_max_abs_diff_logits']:.2e}")
        if "swift_note" in r:
            print(f"{r['model']}: swift: {r['swift_note']}")
    print("ratios < 1 mean Swift is faster; grad-cam = one pytorch-grad-cam GradCAM call (forward + backward "
          "through the whole network, parameters not frozen), swift grad-cam = explain bench-onnx's gradcam_ms")
    if args.json:
        with open(args.json, "w") as f:
            for r in rows:
                f.write(json.dumps(r, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
