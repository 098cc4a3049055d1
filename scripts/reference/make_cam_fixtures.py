"""Write Fixtures/cam/*: what pytorch-grad-cam 1.5.7 returns for seeded-weight models.

Run from the repo root:  python scripts/reference/make_cam_fixtures.py
Idempotent: rewrites the same files with the same bytes (a file is only rewritten when its
contents change; the informational "elapsed_s" of a case is kept from the previous run
while that case's file is unchanged, so the manifest stays byte-identical too).

Every number in the files comes from the library: "cam" is the return value of
cam(input_tensor=x, targets=..., aug_smooth=..., eigen_smooth=...); "lowres.<layer>" is the
library's own get_cam_image(...) output for that layer, captured during that very call,
followed by the library's np.maximum(., 0) and scale_cam_image(., None) (the steps
compute_cam_per_layer applies before resizing).
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

os.environ.setdefault("TQDM_DISABLE", "1")  # Score-CAM / Ablation-CAM progress bars

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytorch_grad_cam  # noqa: E402
import pytorch_grad_cam.base_cam  # noqa: E402
import pytorch_grad_cam.eigen_cam  # noqa: E402
import pytorch_grad_cam.eigen_grad_cam  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
import ttach  # noqa: E402
from importlib.metadata import version  # noqa: E402
from pytorch_grad_cam import (AblationCAM, EigenCAM, EigenGradCAM, GradCAM,  # noqa: E402
                              GradCAMPlusPlus, HiResCAM, LayerCAM, ScoreCAM, XGradCAM)
from pytorch_grad_cam.utils.image import scale_cam_image  # noqa: E402
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget  # noqa: E402
from safetensors.numpy import save as st_save  # noqa: E402

from seed_models import build_seed_model, build_small_backbone  # noqa: E402
from seeded_weights import seeded_input, seeded_state_dict  # noqa: E402

REPO = HERE.parent.parent
OUT = REPO / "Fixtures" / "cam"
SEED = 0
ATTO_INPUT = (2, 3, 112, 112)
SMALL_INPUT = (2, 3, 64, 64)

MODELS = {
    "atto_cnn": dict(backbone="convnextv2_atto", variant="cnn", num_classes=124, input_shape=ATTO_INPUT),
    "atto_cnn_mha": dict(backbone="convnextv2_atto", variant="cnn_mha", num_classes=124, input_shape=ATTO_INPUT),
    "atto_hybrid": dict(backbone="convnextv2_atto", variant="hybrid", num_classes=124, input_shape=ATTO_INPUT),
    "small_cnn": dict(backbone="small", variant="cnn", num_classes=5, input_shape=SMALL_INPUT),
}

METHODS = {
    "gradcam": GradCAM, "hirescam": HiResCAM, "gradcam++": GradCAMPlusPlus, "xgradcam": XGradCAM,
    "layercam": LayerCAM, "eigencam": EigenCAM, "eigengradcam": EigenGradCAM,
    "scorecam": ScoreCAM, "ablationcam": AblationCAM,
}

S3 = ["backbone.stages.3"]
S2 = ["backbone.stages.2"]
S3B0 = ["backbone.stages.3.blocks.0"]
S23 = ["backbone.stages.2", "backbone.stages.3"]
TOP1 = {"kind": "top1"}
INDEX = {"kind": "index", "classes": [7, 101]}
TOPK3 = {"kind": "topk", "k": 3}          # classes filled in from the logits
CONTRAST = {"kind": "contrast"}          # a = top-1, b = top-2 of each image, filled in


def case(name, model, method, target=TOP1, layers=S3, aug=False, eigen=False):
    return dict(name=name, model=model, method=method, target=dict(target), layers=list(layers),
                aug_smooth=aug, eigen_smooth=eigen)


# Size budget (~1.5 MB): an atto map is (2, 112, 112) float32 = 100 KB, so the wish list was cut:
# atto_cnn hirescam -> atto_hybrid, atto_cnn eigengradcam -> atto_cnn_mha, atto_cnn gradcam index
# dropped (index kind: atto_cnn_mha gradcam++), atto_cnn gradcam topk -> small_cnn (its rank 0 is
# also the small_cnn gradcam top1 case), gradcam top1 on atto_cnn_mha / atto_hybrid dropped.
CASES = [
    case("atto_cnn_gradcam_top1", "atto_cnn", "gradcam"),
    case("atto_cnn_gradcampp_top1", "atto_cnn", "gradcam++"),
    case("atto_cnn_xgradcam_top1", "atto_cnn", "xgradcam", layers=S2),  # stages.3: = Grad-CAM (see notes)
    case("atto_cnn_layercam_top1", "atto_cnn", "layercam"),
    case("atto_cnn_eigencam_top1", "atto_cnn", "eigencam"),
    case("atto_cnn_gradcam_contrast", "atto_cnn", "gradcam", CONTRAST),
    case("atto_cnn_gradcam_two_layers", "atto_cnn", "gradcam", layers=S23),
    case("atto_cnn_gradcam_eigen_smooth", "atto_cnn", "gradcam", eigen=True),
    case("atto_cnn_gradcam_aug_smooth", "atto_cnn", "gradcam", aug=True),
    case("atto_cnn_mha_gradcampp_index", "atto_cnn_mha", "gradcam++", INDEX),
    case("atto_cnn_mha_eigengradcam_top1", "atto_cnn_mha", "eigengradcam"),
    case("atto_hybrid_hirescam_top1", "atto_hybrid", "hirescam", layers=S3B0),  # see notes
    case("atto_hybrid_layercam_contrast", "atto_hybrid", "layercam", CONTRAST),
    case("small_cnn_gradcam_topk3", "small_cnn", "gradcam", TOPK3),
    case("small_cnn_scorecam_top1", "small_cnn", "scorecam"),
    case("small_cnn_ablationcam_top1", "small_cnn", "ablationcam"),
]


class ContrastTarget:
    """Score = output[a] - output[b] of one image's logits (what separates class a from b)."""

    def __init__(self, a: int, b: int):
        self.a, self.b = int(a), int(b)

    def __call__(self, model_output):
        if model_output.ndim == 1:
            return model_output[self.a] - model_output[self.b]
        return model_output[:, self.a] - model_output[:, self.b]


def build_model(name: str) -> torch.nn.Module:
    spec = MODELS[name]
    backbone = build_small_backbone() if spec["backbone"] == "small" else spec["backbone"]
    model = build_seed_model(backbone, spec["variant"], spec["num_classes"], intended_attention=False)
    model.load_state_dict(seeded_state_dict(model, SEED), strict=True)
    return model.eval()


class Recorder:
    """Records the library's get_cam_image outputs and get_2d_projection inputs of one call."""

    MODULES = (pytorch_grad_cam.base_cam, pytorch_grad_cam.eigen_cam, pytorch_grad_cam.eigen_grad_cam,
               pytorch_grad_cam.hirescam, pytorch_grad_cam.layer_cam)

    def __init__(self, cam):
        self.cam_images: list[np.ndarray] = []
        self.svd_inputs: list[np.ndarray] = []
        self._cam = cam
        self._orig_get = cam.get_cam_image
        self._orig_proj = {m: m.get_2d_projection for m in self.MODULES}

        def get_cam_image(*args, **kwargs):
            out = self._orig_get(*args, **kwargs)
            self.cam_images.append(np.array(out, copy=True))
            return out

        cam.get_cam_image = get_cam_image
        for m, f in self._orig_proj.items():
            def proj(batch, _f=f):
                self.svd_inputs.append(np.array(batch, copy=True))
                return _f(batch)
            m.get_2d_projection = proj

    def close(self):
        for m, f in self._orig_proj.items():
            m.get_2d_projection = f
        del self._cam.get_cam_image


def svd_signs(batch: np.ndarray) -> list[dict]:
    """Sign facts about the first right singular vector the library used (same call, same dtype)."""
    facts = []
    for act in batch:
        a = act.reshape(act.shape[0], -1).transpose()
        a = a - a.mean(axis=0)
        _u, s, vt = np.linalg.svd(a, full_matrices=True)
        v = vt[0]
        proj = a @ v
        facts.append(dict(
            dtype=str(a.dtype), matrix_shape=list(a.shape),
            s0=float(s[0]), s1=float(s[1]) if len(s) > 1 else 0.0,
            vt0_sum_positive=bool(v.sum() > 0),
            vt0_maxabs_component_positive=bool(v[np.argmax(np.abs(v))] > 0),
            projection_maxabs_positive=bool(proj[np.argmax(np.abs(proj))] > 0),
        ))
    return facts


def run_once(model, method, layers, x, targets, aug, eigen):
    modules = dict(model.named_modules())
    cam = METHODS[method](model=model, target_layers=[modules[n] for n in layers])
    rec = Recorder(cam)
    try:
        out = cam(input_tensor=x, targets=targets, aug_smooth=aug, eigen_smooth=eigen)
    finally:
        rec.close()
        cam.activations_and_grads.release()
    lowres = None
    if not aug:
        assert len(rec.cam_images) == len(layers), (method, len(rec.cam_images))
        lowres = [scale_cam_image(np.maximum(c, 0), None) for c in rec.cam_images]
    raw_max = [[float(m) for m in np.maximum(c, 0).reshape(c.shape[0], -1).max(axis=1)] for c in rec.cam_images]
    return np.asarray(out, dtype=np.float32), lowres, rec.svd_inputs, raw_max


def aug_top1_per_pass(model, x) -> list[list[int]]:
    """targets=None under aug_smooth: the library takes the argmax of every augmented pass."""
    out = []
    with torch.no_grad():
        for t in ttach.Compose([ttach.HorizontalFlip(), ttach.Multiply(factors=[0.9, 1, 1.1])]):
            out.append([int(c) for c in model(t.augment_image(x)).argmax(dim=1)])
    return out


def run_case(c: dict, model, x: torch.Tensor, logits: torch.Tensor) -> tuple[dict, dict]:
    tgt = c["target"]
    top = torch.argsort(logits, dim=1, descending=True)
    info: dict = {}
    if tgt["kind"] == "top1":
        runs = [None]
        info["top1"] = [int(i) for i in top[:, 0]]
    elif tgt["kind"] == "index":
        runs = [[ClassifierOutputTarget(int(k)) for k in tgt["classes"]]]
    elif tgt["kind"] == "topk":
        k = tgt["k"]
        tgt["classes"] = [[int(i) for i in row[:k]] for row in top]
        runs = [[ClassifierOutputTarget(row[r]) for row in tgt["classes"]] for r in range(k)]
    elif tgt["kind"] == "contrast":
        tgt["a"] = [int(i) for i in top[:, 0]]
        tgt["b"] = [int(i) for i in top[:, 1]]
        runs = [[ContrastTarget(a, b) for a, b in zip(tgt["a"], tgt["b"])]]
    else:
        raise ValueError(tgt)

    t0 = time.perf_counter()
    cams, lows, svd_facts, raw_maxes = [], [], [], []
    for targets in runs:
        out, lowres, svd_in, raw_max = run_once(model, c["method"], c["layers"], x, targets, c["aug_smooth"], c["eigen_smooth"])
        cams.append(out)
        lows.append(lowres)
        svd_facts += [svd_signs(b) for b in svd_in]
        raw_maxes.append(raw_max)
    elapsed = time.perf_counter() - t0

    tensors = {}
    if tgt["kind"] == "topk":
        tensors["cam"] = np.stack(cams, axis=1)
    else:
        tensors["cam"] = cams[0]
    if not c["aug_smooth"]:
        for i, layer in enumerate(c["layers"]):
            maps = [low[i] for low in lows]
            tensors[f"lowres.{layer}"] = np.stack(maps, axis=1) if tgt["kind"] == "topk" else maps[0]
    tensors["logits"] = logits.numpy()
    tensors = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}

    info["elapsed_s"] = round(elapsed, 3)
    if not c["aug_smooth"]:  # max of relu(get_cam_image) per layer (per rank), image: where the 1e-7 matters
        info["raw_max"] = raw_maxes[0] if len(raw_maxes) == 1 else raw_maxes
    if svd_facts:
        info["svd"] = svd_facts
    if c["aug_smooth"] and tgt["kind"] == "top1":
        info["aug_top1_per_pass"] = aug_top1_per_pass(model, x)
    return tensors, info


def check(name: str, tensors: dict) -> list[str]:
    problems = []
    for k, v in tensors.items():
        if not np.all(np.isfinite(v)):
            problems.append(f"{name}: {k} has non-finite values")
        if k == "logits":
            continue
        maps = v.reshape(-1, v.shape[-2], v.shape[-1])
        for j, m in enumerate(maps):
            mx = float(m.max())
            if mx == 0.0:
                problems.append(f"{name}: {k}[{j}] is all zero")
            elif abs(mx - 1.0) > 1e-3 and k.startswith("lowres"):
                problems.append(f"{name}: {k}[{j}] max {mx}")
    return problems


def resize_facts(maps: list[np.ndarray], size: tuple[int, int]) -> dict:
    """cv2.resize(INTER_LINEAR) vs torch bilinear align_corners=False on the fixtures' own maps."""
    worst = 0.0
    for m in maps:
        for img in m.reshape(-1, m.shape[-2], m.shape[-1]):
            a = cv2.resize(np.float32(img), size)
            b = F.interpolate(torch.from_numpy(np.float32(img))[None, None], size=(size[1], size[0]),
                              mode="bilinear", align_corners=False)[0, 0].numpy()
            worst = max(worst, float(np.abs(a - b).max()))
    return dict(max_abs_diff_cv2_vs_torch_bilinear_align_corners_false=worst)


def multiply_facts(x: torch.Tensor) -> dict:
    facts = {}
    for f in (0.9, 1.1):
        y = x * f
        facts[str(f)] = dict(
            equals_float32_factor=bool(torch.equal(y, x * torch.tensor(f, dtype=torch.float32))),
            equals_float64_then_round=bool(torch.equal(y, (x.double() * f).float())))
    return facts


NOTES = {
    "pipeline": (
        "Per target layer: cam = get_cam_image(...) (N,h,w); np.maximum(cam, 0); scale_cam_image(cam, (W, H)) "
        "= per image: img -= img.min(); img /= (1e-7 + img.max()); cv2.resize(float32(img), (W, H)). "
        "Then aggregate_multi_layers: stack layers, np.maximum(., 0), mean over layers, scale_cam_image(result) "
        "again (min-max with the same 1e-7, no resize) - this second normalisation is applied for a single "
        "layer too. 'lowres.<layer>' = scale_cam_image(np.maximum(get_cam_image(...), 0), None), i.e. the "
        "normalised map before the resize; its max is m/(m+1e-7), not exactly 1."),
    "resize": (
        "cv2.resize(img, dsize=(W, H)) with the default interpolation INTER_LINEAR on float32: half-pixel "
        "centres, src = (dst + 0.5) * (in/out) - 0.5, clamped to the border (= torch bilinear with "
        "align_corners=False). target size = (input.size(-1), input.size(-2))."),
    "top1": "targets=None: argmax of the logits of that forward pass, per image; target = raw logit.",
    "multi_target_batch": "All methods sum target(output_i) over the images and run one backward (gradients of image i only depend on its own score: no batch coupling in eval mode).",
    "gradcam++": "aij = g^2 / (2 g^2 + sum_hw(A) * g^3 + 1e-6), aij = 0 where g == 0; w = sum_hw(relu(g) * aij).",
    "xgradcam": "w = sum_hw(g * A / (sum_hw(A) + 1e-7)).",
    "layercam": "cam = sum_c(relu(g) * A) (eigen_smooth: SVD projection of relu(g) * A).",
    "hirescam": "cam = sum_c(g * A).",
    "gap_equivalence": (
        "At backbone.stages.3 the only consumer is global average pooling, so the gradient is constant "
        "over h x w for every channel: Grad-CAM, XGrad-CAM (sum(g A)/sum(A) = g) and HiResCAM (sum_c g_c A_c) "
        "then give the same map. The xgradcam case therefore uses backbone.stages.2 (7x7), where the "
        "gradient varies spatially. HiResCAM there would be float32 noise: stages.2 feeds "
        "stages.3's LayerNorm, which is scale invariant per pixel, so sum_c g_c A_c = 0 up to rounding "
        "(raw max ~5e-8, i.e. below the 1e-7 of scale_cam_image); the hirescam case uses "
        "backbone.stages.3.blocks.0 instead. For the same reason sum_hw of the Grad-CAM/HiResCAM map "
        "at stages.3 is ~0 before the ReLU (the head's LayerNorm after pooling)."),
    "eigencam": "get_2d_projection(A) (uses no gradients; targets ignored); eigengradcam: get_2d_projection(g * A).",
    "eigen_smooth": "Grad-CAM family with eigen_smooth=True: get_2d_projection(w[:, :, None, None] * A) instead of the channel sum.",
    "svd": (
        "get_2d_projection: per image, M = A.reshape(C, h*w).T (h*w rows, C columns), NaN -> 0, "
        "M -= M.mean(axis=0) (per-channel centring), U, S, VT = numpy.linalg.svd(M, full_matrices=True), "
        "projection = M @ VT[0], reshape (h, w), float32. The input is float32, so numpy calls LAPACK "
        "sgesdd (float32, divide and conquer) from numpy's bundled scipy-openblas (OpenBLAS 0.3.31). The "
        "sign of VT[0] is whatever LAPACK returns (not normalised by the library); the ReLU that follows "
        "makes the result sign dependent. Per case, 'svd' in the manifest lists sign facts of VT[0] for "
        "every SVD the case made (order: layers, then images; topk: per rank). No simple rule (sum of VT[0], "
        "sign of its largest component) reproduces LAPACK's choice here; to compare, orient your projection "
        "so that its largest-|.| element is positive iff projection_maxabs_positive, then ReLU."),
    "scorecam": (
        "Activations A of the layer are upsampled with torch.nn.UpsamplingBilinear2d(size=input HxW), "
        "i.e. bilinear with align_corners=True; each channel min-max normalised: (u - min) / (max - min + 1e-8); "
        "masked inputs x * u_c run through the model in batches of 16 (channels of one image; ScoreCAM "
        "sets no batch_size), score = target(output) as a Python float; weights = softmax over the "
        "channels of the scores (float32); cam = sum_c w_c A_c."),
    "ablationcam": (
        "batch_size 32, ratio_channels_to_ablate 1.0 (all channels). The target layer is replaced by "
        "AblationLayer, which returns the cached activations of the image repeated per ablated channel; "
        "in row i of a batch channel indices[i] is set to 0 if torch.min(batch) == 0, else to "
        "torch.min(batch) - 1e7 where the min is re-taken AFTER the earlier rows were ablated: row i gets "
        "(min0 - 1e7) - i * 1e7 (float32 arithmetic, min0 = min of the unablated batch), so the ablation "
        "value depends on the position in the batch of 32 (restarts every batch and every image). "
        "weights = (original_score - ablated_score) / original_score (divides by the original target "
        "score: sign flips if it is negative); cam = sum_c w_c A_c. ConvNeXt stage outputs are never "
        "exactly 0 at the min, so the min - 1e7 branch is the one used here; the following LayerNorm "
        "largely normalises the magnitude away."),
    "aug_smooth": (
        "ttach.Compose([HorizontalFlip(), Multiply(factors=[0.9, 1, 1.1])]): 6 passes in itertools.product "
        "order (flip, factor) = (F,0.9), (F,1), (F,1.1), (T,0.9), (T,1), (T,1.1). Augment: x.flip(3) "
        "(width) first, then x * factor (factor 1 skipped). Each pass runs the full forward(...) (with "
        "targets=None the argmax is re-taken per augmented pass; see aug_top1_per_pass) and returns the "
        "final normalised (N,H,W) map; de-augment: Multiply does nothing, HorizontalFlip flips the mask "
        "back (flip(3)). cam = np.mean(np.float32(cams), axis=0) over the 6 maps, NOT renormalised "
        "(max may be < 1). There is no lowres map for these cases."),
    "contrast": "target callable per image: output[a] - output[b] (raw logits), a = top-1, b = top-2 of that image.",
    "topk": "k runs, run r uses ClassifierOutputTarget(classes[i][r]) for image i; cam and lowres stacked on axis 1.",
    "threads": ("torch.set_num_threads(1); float32 everywhere; model in eval mode, seeded weights v1 seed 0. "
                "The logits differ from Fixtures/parity (run with 2 threads) by ~1e-6."),
}


def dump_manifest(manifest: dict) -> str:
    """Sorted-key JSON, one case / one note per line (keeps the file small and diffable)."""
    d = lambda v: json.dumps(v, sort_keys=True)  # noqa: E731
    parts = []
    for k in sorted(manifest):
        v = manifest[k]
        if k == "cases":
            body = "[\n" + ",\n".join("  " + d(c) for c in v) + "\n ]"
        elif k == "notes":
            body = "{\n" + ",\n".join(f"  {d(n)}: {d(v[n])}" for n in sorted(v)) + "\n }"
        else:
            body = d(v)
        parts.append(f" {d(k)}: {body}")
    text = "{\n" + ",\n".join(parts) + "\n}\n"
    assert json.loads(text) == json.loads(json.dumps(manifest))
    return text


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    old_cases = {}
    if (OUT / "manifest.json").exists():
        old_cases = {c["name"]: c for c in json.loads((OUT / "manifest.json").read_text())["cases"]}

    models, logits_of, inputs = {}, {}, {}
    entries, problems, all_low = [], [], []
    for c in CASES:
        mname = c["model"]
        if mname not in models:
            models[mname] = build_model(mname)
            inputs[mname] = torch.from_numpy(seeded_input(MODELS[mname]["input_shape"], SEED))
            with torch.no_grad():
                logits_of[mname] = models[mname](inputs[mname]).detach()
        model, x = models[mname], inputs[mname]
        tensors, info = run_case(c, model, x, logits_of[mname])
        problems += check(c["name"], tensors)
        all_low += [v for k, v in tensors.items() if k.startswith("lowres")]

        data = st_save(tensors, metadata={"fixture": f"{c['name']} (pytorch-grad-cam 1.5.7, seeded weights v1, seed {SEED})"})
        path = OUT / f"{c['name']}.safetensors"
        digest = hashlib.sha256(data).hexdigest()[:16]
        old = old_cases.get(c["name"])
        if old is not None and old.get("sha256") == digest and "elapsed_s" in old:
            info["elapsed_s"] = old["elapsed_s"]  # unchanged file: keep the recorded timing
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)

        entry = dict(
            name=c["name"], file=path.name, model=mname, input_shape=list(MODELS[mname]["input_shape"]),
            method=c["method"], layers=c["layers"], target=c["target"],
            aug_smooth=c["aug_smooth"], eigen_smooth=c["eigen_smooth"],
            tensors={k: list(v.shape) for k, v in tensors.items()},
            max_abs_cam=float(np.abs(tensors["cam"]).max()),
            sha256=digest, **info,
        )
        entries.append(entry)
        print(f"{c['name']}: {', '.join(f'{k}{tuple(v.shape)}' for k, v in tensors.items())} "
              f"[{len(data)} B, {info['elapsed_s']} s]", flush=True)

    notes = dict(NOTES)
    notes["resize_check"] = resize_facts(all_low, (112, 112))
    notes["multiply_check"] = multiply_facts(inputs["atto_cnn"])
    manifest = {
        "format": "camkit-cam-v1",
        "grad_cam": version("grad-cam"),
        "ttach": version("ttach"),
        "opencv": cv2.__version__,
        "numpy": np.__version__,
        "torch": torch.__version__.split("+")[0],
        "weights": "seeded weights v1 (Fixtures/README.md), seed 0; input = seeded 'input' (value u)",
        "cases": entries,
        "notes": notes,
    }
    text = dump_manifest(manifest)
    mpath = OUT / "manifest.json"
    if not mpath.exists() or mpath.read_text() != text:
        mpath.write_text(text)
    names = {e["file"] for e in entries} | {"manifest.json"}
    stray = sorted(p.name for p in OUT.iterdir() if p.name not in names)
    total = sum((OUT / n).stat().st_size for n in names)
    print(f"total Fixtures/cam: {total} bytes ({len(entries)} cases)")
    if stray:
        print("stray files (not written by this script):", stray)
    for p in problems:
        print("PROBLEM:", p)


if __name__ == "__main__":
    main()
