"""Write Fixtures/cam-methods/*: what pytorch-grad-cam 1.5.7 returns for the methods added after
the first nine (Finer-CAM, Grad-CAM ElementWise, KPCA-CAM, FEM, FullGrad, Guided Backprop,
RefineCAM, SESS, RandomCAM, sobel_cam, ShapleyCAM) on seeded-weight models.

Run from the repo root:  python scripts/reference/make_method_fixtures.py
Each case file holds "cam" (the library's return value) and "logits"; Guided Backprop's "cam" is
GuidedBackpropReLUModel's gradient per image, transposed back to (N, 3, H, W); sobel_cam's case
holds its uint8 "image" (H, W, 3) and output as float32. Rewrites a file only when its bytes change.
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from importlib.metadata import version  # noqa: E402
from pytorch_grad_cam import (FEM, SESS, FinerCAM, FullGrad, GradCAMElementWise,  # noqa: E402
                              GuidedBackpropReLUModel, KPCA_CAM, RandomCAM, RefineCAM, ShapleyCAM)
from pytorch_grad_cam.sobel_cam import sobel_cam  # noqa: E402
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget  # noqa: E402
from safetensors.numpy import save as st_save  # noqa: E402

from seed_models import build_seed_model, build_small_backbone  # noqa: E402
from seeded_weights import seeded_input, seeded_state_dict  # noqa: E402

REPO = HERE.parent.parent
OUT = REPO / "Fixtures" / "cam-methods"
SEED = 0
SMALL_INPUT = (2, 3, 64, 64)
MODELS = {"small_cnn": "cnn", "small_hybrid": "hybrid"}
S2, S3 = ["backbone.stages.2"], ["backbone.stages.3"]

# name, model, method, layers, options (finer: target_idx / ranks / alpha)
CASES = [
    ("small_cnn_finercam_top1", "small_cnn", "finercam", S3, {}),
    ("small_cnn_finercam_index", "small_cnn", "finercam", S3, {"target_idx": 2, "ranks": [1, 3], "alpha": 0.5}),
    ("small_hybrid_finercam_top1", "small_hybrid", "finercam", S3, {}),
    ("small_cnn_gradcamelementwise_top1", "small_cnn", "gradcamelementwise", S3, {}),
    ("small_cnn_kpcacam_top1", "small_cnn", "kpcacam", S2, {}),
    ("small_cnn_fem_top1", "small_cnn", "fem", S2, {}),
    ("small_cnn_randomcam_top1", "small_cnn", "randomcam", S3, {}),
    ("small_hybrid_fullgrad_top1", "small_hybrid", "fullgrad", [], {}),
    ("small_hybrid_guidedbackprop_top1", "small_hybrid", "guidedbackprop", [], {}),
    ("small_hybrid_refinecam_top1", "small_hybrid", "refinecam", S2 + S3, {}),
    ("small_cnn_sess_top1", "small_cnn", "sess", S3, {}),
    ("small_cnn_shapleycam_top1", "small_cnn", "shapleycam", S2, {}),
    ("small_hybrid_shapleycam_top1", "small_hybrid", "shapleycam", S3, {}),
]


def build_model(name: str) -> torch.nn.Module:
    model = build_seed_model(build_small_backbone(), MODELS[name], 5, intended_attention=False)
    model.load_state_dict(seeded_state_dict(model, SEED), strict=True)
    return model.eval()


def run(method: str, model, layers, x, logits, opts) -> np.ndarray:
    modules = dict(model.named_modules())
    target_layers = [modules[n] for n in layers]
    if method == "guidedbackprop":
        gb = GuidedBackpropReLUModel(model=model, device=None)
        top = logits.argmax(dim=1)
        return np.stack([gb(x[i:i + 1].clone(), target_category=int(top[i])).transpose(2, 0, 1) for i in range(len(x))])
    if method == "finercam":
        cam = FinerCAM(model=model, target_layers=target_layers)
        return cam(input_tensor=x, targets=None, alpha=opts.get("alpha", 1),
                   comparison_categories=opts.get("ranks"), target_idx=opts.get("target_idx"))
    if method == "randomcam":
        np.random.seed(SEED)
    cls = {"gradcamelementwise": GradCAMElementWise, "kpcacam": KPCA_CAM, "fem": FEM, "randomcam": RandomCAM,
           "fullgrad": FullGrad, "refinecam": RefineCAM, "sess": SESS, "shapleycam": ShapleyCAM}[method]
    cam = cls(model=model, target_layers=target_layers)
    targets = [ClassifierOutputTarget(int(c)) for c in logits.argmax(dim=1)]
    return cam(input_tensor=x, targets=targets)


def write(name: str, tensors: dict, meta: dict, entries: list) -> None:
    tensors = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}
    for k, v in tensors.items():
        assert np.all(np.isfinite(v)), (name, k)
    data = st_save(tensors, metadata={"fixture": f"{name} (pytorch-grad-cam {version('grad-cam')}, seeded weights v1, seed {SEED})"})
    path = OUT / f"{name}.safetensors"
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)
    entries.append(dict(name=name, file=path.name, tensors={k: list(v.shape) for k, v in tensors.items()},
                        sha256=hashlib.sha256(data).hexdigest()[:16], **meta))
    print(f"{name}: {', '.join(f'{k}{v.shape}' for k, v in tensors.items())} [{len(data)} B]", flush=True)


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    entries: list = []
    models = {name: build_model(name) for name in MODELS}
    x = torch.from_numpy(seeded_input(SMALL_INPUT, SEED))
    for name, mname, method, layers, opts in CASES:
        model = models[mname]
        with torch.no_grad():
            logits = model(x)
        cam = run(method, model, layers, x, logits, opts)
        write(name, {"cam": cam, "logits": logits.numpy()},
              dict(model=mname, method=method, layers=layers, input_shape=list(SMALL_INPUT), options=opts,
                   top1=[int(c) for c in logits.argmax(dim=1)]), entries)

    rng = np.random.default_rng(SEED)
    image = rng.integers(0, 256, size=(24, 32, 3), dtype=np.uint8)
    image[8:16, 10:20] = 200  # a flat block, so that saturation and zero gradients both occur
    write("sobel_cam", {"image": image, "cam": sobel_cam(image)}, dict(method="sobelcam"), entries)

    manifest = {"format": "camkit-cam-methods-v1", "grad_cam": version("grad-cam"), "torch": torch.__version__.split("+")[0],
                "numpy": np.__version__, "weights": "seeded weights v1, seed 0; input = seeded 'input'",
                "notes": {
                    "randomcam": "np.random.seed(0) right before the call; weights = np.random.uniform(-1, 1, (N, C)).",
                    "finercam": "targets=None: main = argsort(|z - z_t|)[0], comparisons at the given ranks of that order "
                                "(default [1, 2, 3]); z_t = max logit, or that of target_idx.",
                    "guidedbackprop": "GuidedBackpropReLUModel per image with target_category = its top-1 class; "
                                      "only nn.ReLU modules are guided.",
                    "fullgrad": "target_layers ignored: every nn.Conv2d with a bias and every nn.BatchNorm2d (exact type).",
                },
                "cases": entries}
    text = json.dumps(manifest, sort_keys=True, indent=1) + "\n"
    mpath = OUT / "manifest.json"
    if not mpath.exists() or mpath.read_text() != text:
        mpath.write_text(text)


if __name__ == "__main__":
    main()
