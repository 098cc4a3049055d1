"""Time PyTorch on the seed variants with a convnextv2_base backbone (random weights).

Modes (per variant):
  inference  forward under torch.inference_mode()
  gradcam    forward + backward of the top logit to the backbone.stages.3 activation, the way
             pytorch-grad-cam does it: its ActivationsAndGradients hooks, model.zero_grad(),
             loss.backward(retain_graph=True), parameters left requiring grad (so the
             backward runs through the whole backbone and fills every parameter's .grad)
  frozen     the same with every parameter requires_grad=False and only the stages.3
             activation made a leaf that retains its grad: the backward stops there (the
             fairest "stop early" that torch allows)

Each (variant, mode) runs in its own subprocess so that the peak RSS (getrusage ru_maxrss,
which only grows) belongs to that measurement alone; --in-process disables that.

Run from the repo root:
  python scripts/reference/bench_torch.py --variants cnn,cnn_mha,hybrid --repeats 10 --json out/bench_torch.jsonl
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

MODES = ("inference", "gradcam", "frozen")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def measure(variant: str, mode: str, args) -> dict:
    import timm
    import torch
    from pytorch_grad_cam.activations_and_gradients import ActivationsAndGradients

    from seed_models import build_seed_model

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = build_seed_model(args.model, variant, args.classes).eval()
    x = torch.randn(args.batch, 3, args.size, args.size)
    target_layer = model.backbone.stages[3]
    rss_after_build = peak_rss_mb()

    if mode == "inference":
        def step():
            with torch.inference_mode():
                return model(x)
    elif mode == "gradcam":
        acts = ActivationsAndGradients(model, [target_layer], None)

        def step():
            out = acts(x)
            model.zero_grad()
            top = int(out[0].argmax())
            loss = out[0, top]
            loss.backward(retain_graph=True)
            g = acts.gradients[0]
            assert g.shape == acts.activations[0].shape
            return g
    elif mode == "frozen":
        for p in model.parameters():
            p.requires_grad_(False)
        store = {}

        def hook(_m, _i, out):
            leaf = out.detach().requires_grad_(True)
            store["act"] = leaf
            return leaf

        target_layer.register_forward_hook(hook)

        def step():
            out = model(x)
            top = int(out[0].argmax())
            out[0, top].backward()
            g = store["act"].grad
            assert g is not None and g.shape == store["act"].shape
            return g
    else:
        raise ValueError(mode)

    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return dict(
        bench="torch", model=args.model, variant=variant, mode=mode, batch=args.batch,
        size=args.size, classes=args.classes, threads=args.threads, warmup=args.warmup,
        repeats=args.repeats, median_s=statistics.median(times), min_s=min(times),
        mean_s=statistics.fmean(times), times_s=[round(t, 5) for t in times],
        peak_rss_mb=round(peak_rss_mb(), 1), rss_after_build_mb=round(rss_after_build, 1),
        torch=torch.__version__, timm=timm.__version__, python=platform.python_version(),
        machine=platform.machine(), cpus=os.cpu_count(),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variants", default="cnn,cnn_mha,hybrid")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default="convnextv2_base")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--classes", type=int, default=124)
    ap.add_argument("--json", type=Path, default=None, help="also write the JSON lines to this file")
    ap.add_argument("--in-process", action="store_true", help="do not spawn one subprocess per measurement")
    ap.add_argument("--one", nargs=2, metavar=("VARIANT", "MODE"), help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.one:
        print(json.dumps(measure(args.one[0], args.one[1], args)), flush=True)
        return

    variants = [v for v in args.variants.split(",") if v]
    modes = [m for m in args.modes.split(",") if m]
    results = []
    for v in variants:
        for m in modes:
            if args.in_process:
                r = measure(v, m, args)
            else:
                cmd = [sys.executable, __file__, "--one", v, m] + [
                    a for k in ("repeats", "warmup", "threads", "model", "size", "batch", "classes")
                    for a in (f"--{k}", str(getattr(args, k)))]
                p = subprocess.run(cmd, check=True, capture_output=True, text=True)
                r = json.loads(p.stdout.strip().splitlines()[-1])
            results.append(r)
            print(f"{r['variant']:8s} {r['mode']:10s} median {r['median_s'] * 1000:8.1f} ms  "
                  f"min {r['min_s'] * 1000:8.1f} ms  peak RSS {r['peak_rss_mb']:7.1f} MB", flush=True)
            print(json.dumps(r), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text("".join(json.dumps(r) + "\n" for r in results))


if __name__ == "__main__":
    main()
