"""Write Fixtures/parity/*: expected outputs of seeded-weight models (seeded weights v1).

Run from the repo root:  python scripts/reference/make_parity_fixtures.py
Idempotent: rewrites the same files with the same contents.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import timm  # noqa: E402
import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

from seed_models import build_seed_model  # noqa: E402
from seeded_weights import seeded_input, seeded_state_dict, seeded_value, uniform  # noqa: E402

REPO = HERE.parent.parent
OUT = REPO / "Fixtures" / "parity"
SEED = 0
INPUT_SHAPE = (2, 3, 112, 112)

FIXTURES = [
    # name, backbone, variant, classes, intended attention, targets
    dict(name="atto_cnn", backbone="convnextv2_atto", variant="cnn", num_classes=124, intended=False, targets=[7, 101]),
    dict(name="atto_cnn_mha", backbone="convnextv2_atto", variant="cnn_mha", num_classes=124, intended=False, targets=[7, 101]),
    dict(name="atto_hybrid", backbone="convnextv2_atto", variant="hybrid", num_classes=124, intended=False, targets=[7, 101]),
    dict(name="atto_cnn_mha_intended", backbone="convnextv2_atto", variant="cnn_mha", num_classes=124, intended=True, targets=[7, 101]),
    dict(name="atto_hybrid_intended", backbone="convnextv2_atto", variant="hybrid", num_classes=124, intended=True, targets=[7, 101]),
    dict(name="tiny_cnn", backbone="convnextv2_tiny", variant="cnn", num_classes=124, intended=False, targets=[7, 101]),
    dict(name="tiny_cnn_mha", backbone="convnextv2_tiny", variant="cnn_mha", num_classes=124, intended=False, targets=[7, 101]),
    dict(name="tiny_hybrid", backbone="convnextv2_tiny", variant="hybrid", num_classes=124, intended=False, targets=[7, 101]),
    dict(name="atto_timm_head", backbone="convnextv2_atto", variant="timm_head", num_classes=1000, intended=None, targets=[1, 999]),
    dict(name="atto_backbone", backbone="convnextv2_atto", variant="backbone", num_classes=0, intended=None, targets=[5, 17]),
]

# Keys whose seeded values are written to the manifest as test vectors for the Swift rule.
TEST_VECTOR_KEYS = [
    ("stem.0.weight", (40, 3, 4, 4)),
    ("stages.0.blocks.0.mlp.fc1.weight", (160, 40, 1, 1)),
    ("backbone.stages.0.blocks.0.mlp.fc1.weight", (384, 96)),
    ("stem.1.weight", (40,)),
    ("stem.1.bias", (40,)),
    ("morphological_extractor.morphological_analyzers.body_proportion.1.running_var", (128,)),
    ("morphological_extractor.morphological_analyzers.body_proportion.1.running_mean", (128,)),
    ("morphological_extractor.feature_attention.in_proj_weight", (384, 128)),
    ("input", None),
]


def build(fx: dict) -> torch.nn.Module:
    if fx["variant"] == "timm_head":
        return timm.create_model(fx["backbone"], pretrained=False, num_classes=fx["num_classes"]).eval()
    if fx["variant"] == "backbone":
        return timm.create_model(fx["backbone"], pretrained=False, num_classes=0).eval()
    return build_seed_model(fx["backbone"], fx["variant"], fx["num_classes"], fx["intended"])


def run(model: torch.nn.Module, fx: dict, x: torch.Tensor) -> tuple[dict, dict]:
    """Forward + backward of the target score; returns (tensors, extra stats)."""
    seed_variant = fx["variant"] in ("cnn", "cnn_mha", "hybrid")
    backbone = model.backbone if seed_variant else model
    captured: dict[str, torch.Tensor] = {}
    handles = []

    def keep(name, retain=False):
        def hook(_m, _inp, out):
            if retain:
                out.retain_grad()
            captured[name] = out
        return hook

    handles.append(backbone.stages[3].register_forward_hook(keep("stages3", retain=True)))
    if seed_variant:
        handles.append(model.backbone.register_forward_hook(keep("features")))
        if hasattr(model, "attention"):
            handles.append(model.attention.register_forward_hook(keep("attention_out")))
            handles.append(model.attention.query.register_forward_hook(keep("_query", retain=True)))
            handles.append(model.attention.key.register_forward_hook(keep("_key", retain=True)))
        if hasattr(model, "morphological_extractor"):
            handles.append(model.morphological_extractor.register_forward_hook(keep("mfe_out")))
            handles.append(model.feature_fusion.register_forward_hook(keep("fusion_out")))
    elif fx["variant"] == "timm_head":
        def pre(_m, inp):
            captured["features"] = inp[0]
        handles.append(model.head.fc.register_forward_pre_hook(pre))

    model.zero_grad(set_to_none=True)
    out = model(x)
    t0, t1 = fx["targets"]
    score = out[0, t0] + out[1, t1]
    score.backward()
    for h in handles:
        h.remove()

    tensors = {}
    if fx["variant"] == "backbone":
        tensors["features"] = out
    else:
        tensors["logits"] = out
        tensors["features"] = captured["features"]
    tensors["stages3"] = captured["stages3"]
    tensors["grad_stages3"] = captured["stages3"].grad
    for k in ("attention_out", "mfe_out", "fusion_out"):
        if k in captured:
            tensors[k] = captured[k]
    extra = {}
    if "_query" in captured:
        extra["max_abs_grad_query_out"] = float(captured["_query"].grad.abs().max())
        extra["max_abs_grad_key_out"] = float(captured["_key"].grad.abs().max())
    tensors = {k: v.detach().contiguous() for k, v in tensors.items()}
    return tensors, extra


def test_vectors() -> list[dict]:
    vecs = []
    for key, shape in TEST_VECTOR_KEYS:
        if key == "input":
            vals = seeded_input(INPUT_SHAPE, SEED).reshape(-1)
            rule = "u"
            shape = INPUT_SHAPE
        else:
            vals = seeded_value(key, shape, SEED).reshape(-1)
            rule = "per key/shape"
        vecs.append(dict(
            key=key, shape=list(shape), rule=rule, seed=SEED,
            first8=[float(v) for v in vals[:8]],
            first8_bits=[f"0x{int(b):08x}" for b in vals[:8].view(np.uint32)],
            last=float(vals[-1]),
            sum_f64=float(vals.astype(np.float64).sum()),
        ))
    vecs.append(dict(key="input", note="raw u for element 0..3 before the float32 cast (float64)",
                     u_first4=[float(v) for v in uniform("input", 4, SEED)]))
    return vecs


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    OUT.mkdir(parents=True, exist_ok=True)
    x32 = torch.from_numpy(seeded_input(INPUT_SHAPE, SEED))
    manifest = dict(
        format="camkit-parity-v1",
        weights="seeded weights v1 (Fixtures/README.md), seed 0; num_batches_tracked left at default (0)",
        input=dict(key="input", shape=list(INPUT_SHAPE), dtype="float32", rule="u"),
        dtype="float32",
        mode="eval",
        torch=torch.__version__.split("+")[0], timm=timm.__version__,
        score="logits[0, t0] + logits[1, t1] (raw logits); for atto_backbone features[0, t0] + features[1, t1]",
        grad_stages3="d score / d output of backbone.stages.3 (the Grad-CAM target activation)",
        seeded_weights_v1_test_vectors=test_vectors(),
        fixtures=[],
    )
    for fx in FIXTURES:
        model = build(fx)
        sd = seeded_state_dict(model, SEED)
        model.load_state_dict(sd, strict=True)
        model.eval()
        tensors, extra = run(model, fx, x32)

        # float64 run of the same weights: how much float32 rounding alone moves each tensor.
        model64 = build(fx).double()
        model64.load_state_dict({k: (v.double() if v.is_floating_point() else v) for k, v in sd.items()}, strict=True)
        model64.eval()
        t64, _ = run(model64, fx, x32.double())
        drift = {}
        for k, v in tensors.items():
            ref = t64[k]
            drift[k] = dict(
                max_abs=float(ref.abs().max()),
                max_abs_diff_f32_vs_f64=float((v.double() - ref).abs().max()),
            )

        save_file(tensors, str(OUT / f"{fx['name']}.safetensors"),
                  metadata={"fixture": f"{fx['name']} (seeded weights v1, seed {SEED})"})  # one key: Rust HashMap order is random
        keys = [dict(key=k, shape=list(v.shape), dtype=str(v.dtype).replace("torch.", ""),
                     generated=bool(v.is_floating_point()))
                for k, v in model.state_dict().items()]
        (OUT / f"{fx['name']}.keys.json").write_text(
            '{"name": %s, "count": %d, "keys": [\n' % (json.dumps(fx["name"]), len(keys))
            + ",\n".join(json.dumps(k) for k in keys) + "\n]}\n")

        entry = dict(
            name=fx["name"],
            file=f"{fx['name']}.safetensors",
            keys_file=f"{fx['name']}.keys.json",
            backbone=fx["backbone"],
            variant=fx["variant"],
            num_classes=fx["num_classes"],
            input_shape=list(INPUT_SHAPE),
            targets=fx["targets"],
            tensors={k: list(v.shape) for k, v in tensors.items()},
            f32_drift=drift,
            tolerance_notes=(
                "float32 reference. Suggested: |swift - ref| <= 1e-4 * max|ref| + 1e-5 for logits/"
                "features/activations, 1e-3 * max|ref| for grad_stages3; f32_drift gives the "
                "float32-vs-float64 difference of this very computation in PyTorch as a floor."),
        )
        if fx["variant"] in ("cnn_mha", "hybrid"):
            entry["attention"] = "intended" if fx["intended"] else "original"
            entry["attention_heads"] = model.attention.num_heads
            entry["attention_head_dim"] = model.attention.head_dim
            entry.update(extra)
            print(f"  {fx['name']}: max|d score/d query_out| = {extra['max_abs_grad_query_out']:.3e}, "
                  f"max|d score/d key_out| = {extra['max_abs_grad_key_out']:.3e}")
            if not fx["intended"]:
                assert extra["max_abs_grad_query_out"] < 1e-5 and extra["max_abs_grad_key_out"] < 1e-5, extra
        if fx["variant"] == "hybrid":
            entry["mfe_spatial_size"] = model.morphological_extractor.spatial_size
        manifest["fixtures"].append(entry)
        size = (OUT / f"{fx['name']}.safetensors").stat().st_size
        print(f"{fx['name']}: {', '.join(f'{k}{tuple(v.shape)}' for k, v in tensors.items())} [{size} B]")

    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    total = sum(p.stat().st_size for p in OUT.iterdir() if p.is_file())
    print(f"total Fixtures/parity: {total} bytes")


if __name__ == "__main__":
    main()
