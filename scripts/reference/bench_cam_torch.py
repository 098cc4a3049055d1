"""Time pytorch-grad-cam's methods on the seed cnn variant with a convnextv2_base backbone, or
with --model efficientnet-lite0 on the pretrained EfficientNet-Lite0 (`make models`) at `_head_act`
(as `explain bench-cam --model efficientnet-lite0`).

Seeded weights v1 (Fixtures/README.md), the seeded input (1, 3, 224, 224), target layer
backbone.stages.3, targets=None (top-1), 2 threads. Each method is timed as a user calls it:
`cam(input_tensor=x, targets=None)` on a fresh CAM object (the object is built once, outside
the timing). Prints a table and, with --json, one JSON object per method. Compare with
`swift run -c release explain bench-cam` run right before or after on the same machine.

  python scripts/reference/bench_cam_torch.py --repeats 5 --slow-repeats 1
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TQDM_DISABLE", "1")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

METHODS = ("gradcam", "hirescam", "gradcam++", "xgradcam", "layercam", "eigencam", "eigengradcam",
           "scorecam", "ablationcam")
SLOW = ("scorecam", "ablationcam")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--repeats", type=int, default=5, help="timed runs of the fast methods (after 1 warm-up)")
    ap.add_argument("--slow-repeats", type=int, default=1, help="timed runs of Score-CAM and Ablation-CAM (no warm-up)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default="convnextv2_base")
    ap.add_argument("--variant", default="cnn")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import torch
    import pytorch_grad_cam as pgc
    from seed_models import build_seed_model
    from seeded_weights import seeded_input, seeded_state_dict

    torch.set_num_threads(args.threads)
    if args.model == "efficientnet-lite0":
        from make_ablation_fixture import Split
        from make_real_model_fixtures import effnet_model
        model = Split(effnet_model(args.size)).eval()
        layers = [model.features]
    else:
        model = build_seed_model(args.model, args.variant, 124)
        model.load_state_dict(seeded_state_dict(model))
        model.eval()
        layers = [model.backbone.stages[3]]
    x = torch.from_numpy(seeded_input((1, 3, args.size, args.size)))
    classes = {"gradcam": pgc.GradCAM, "hirescam": pgc.HiResCAM, "gradcam++": pgc.GradCAMPlusPlus,
               "xgradcam": pgc.XGradCAM, "layercam": pgc.LayerCAM, "eigencam": pgc.EigenCAM,
               "eigengradcam": pgc.EigenGradCAM, "scorecam": pgc.ScoreCAM, "ablationcam": pgc.AblationCAM}

    if not args.json:
        print("method          median ms     min ms  runs")
    for name in [m for m in args.methods.split(",") if m]:
        cam = classes[name](model=model, target_layers=layers)
        slow = name in SLOW
        if not slow:
            cam(input_tensor=x, targets=None)
        times = []
        for _ in range(args.slow_repeats if slow else args.repeats):
            t0 = time.perf_counter()
            cam(input_tensor=x, targets=None)
            times.append((time.perf_counter() - t0) * 1000)
        del cam
        median, minimum = statistics.median(times), min(times)
        if args.json:
            print(json.dumps(dict(impl="pytorch_grad_cam", method=name, median_ms=round(median, 1),
                                  min_ms=round(minimum, 1), runs=len(times), threads=args.threads,
                                  torch=torch.__version__)), flush=True)
        else:
            print(f"{name:14s} {median:10.1f} {minimum:10.1f}  {len(times):4d}", flush=True)


if __name__ == "__main__":
    main()
