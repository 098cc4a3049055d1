"""Write Fixtures/checkpoints/*: real-format checkpoints of a small custom ConvNeXt V2.

  small_cnn_mha.pth                      torch.save({"epoch": 7, "model_state_dict": {"module."+k: v}})
  small_cnn_mha.expected.safetensors     expected outputs for the seeded input (2,3,64,64)
  small_cnn_mha.bf16.safetensors          the same model, float weights stored as BF16
  small_cnn_mha.bf16.expected.safetensors      outputs of the bf16-rounded weights, computed in float32
  small_cnn_mha.training.pth             as the seed's app saves: {"model_state_dict", "optimizer_state_dict", "epoch"}
  small_cnn_mha.base_model.pth           torch.save({"base_model": state_dict, "note": ...}) (any single key)
  two_state_dicts.pth                    {"student": {...}, "teacher": {...}, "empty": {}}: refused, naming both
  manifest.json

Run from the repo root:  python scripts/reference/make_checkpoint_fixtures.py [--out DIR]
Idempotent.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import OrderedDict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

from seed_models import SeedModel, build_small_backbone  # noqa: E402
from seeded_weights import seeded_input  # noqa: E402

REPO = HERE.parent.parent
INPUT_SHAPE = (2, 3, 64, 64)
TARGETS = [1, 4]
NUM_CLASSES = 5
SMALL_CFG = dict(depths=[1, 1, 2, 1], dims=[8, 16, 32, 64], use_grn=True, ls_init_value=None,
                 conv_mlp=False, num_classes=0)
PTH_LIMIT = 1024 * 1024


def make_small(variant: str) -> SeedModel:
    """Default init from torch.manual_seed(0), then every 1-D entry perturbed (seed 1)."""
    torch.manual_seed(0)
    model = SeedModel(build_small_backbone(), variant, NUM_CLASSES)
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if not t.is_floating_point():
                t.fill_(1234)  # num_batches_tracked: non-default, loaders must ignore it
                continue
            if t.dim() != 1:
                continue
            r = torch.randn(t.shape, generator=g)
            if name.endswith("running_var"):
                t.copy_(0.5 + torch.rand(t.shape, generator=g))
            elif name.endswith("running_mean"):
                t.copy_(0.1 * r)
            elif name.endswith("grn.weight") or name.endswith("grn.bias"):
                t.copy_(0.3 * r)  # timm initialises GRN to zeros (identity); make it do something
            elif name.endswith("weight"):
                t.copy_(1.0 + 0.2 * r)
            else:
                t.copy_(0.1 * r)
    return model.eval()


def run(model: SeedModel, x: torch.Tensor) -> dict:
    captured = {}

    def keep(name, retain=False):
        def hook(_m, _i, out):
            if retain:
                out.retain_grad()
            captured[name] = out
        return hook

    handles = [model.backbone.stages[3].register_forward_hook(keep("stages3", True)),
               model.backbone.register_forward_hook(keep("features")),
               model.attention.register_forward_hook(keep("attention_out"))]
    if model.variant == "hybrid":
        handles += [model.morphological_extractor.register_forward_hook(keep("mfe_out")),
                    model.feature_fusion.register_forward_hook(keep("fusion_out"))]
    model.zero_grad(set_to_none=True)
    logits = model(x)
    (logits[0, TARGETS[0]] + logits[1, TARGETS[1]]).backward()
    for h in handles:
        h.remove()
    out = {"logits": logits}
    out.update(captured)
    out["grad_stages3"] = captured["stages3"].grad
    return {k: v.detach().contiguous() for k, v in out.items()}


def sha256(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=REPO / "Fixtures" / "checkpoints")
    args = ap.parse_args()
    out_dir: Path = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    x = torch.from_numpy(seeded_input(INPUT_SHAPE, 0))
    common = dict(backbone="timm.models.convnext.ConvNeXt", **SMALL_CFG, num_classes_head=NUM_CLASSES,
                  input=dict(key="input", rule="seeded weights v1 'u', seed 0", shape=list(INPUT_SHAPE)),
                  targets=TARGETS, score="logits[0, t0] + logits[1, t1]", mode="eval")
    manifest = dict(format="camkit-checkpoints-v1", torch=torch.__version__.split("+")[0], fixtures=[])

    # 1. cnn_mha as a real training checkpoint (.pth, zip format, module. prefix, wrapped).
    model = make_small("cnn_mha")
    sd = model.state_dict()
    ckpt = {"epoch": 7, "model_state_dict": OrderedDict(("module." + k, v.clone()) for k, v in sd.items())}
    pth = out_dir / "small_cnn_mha.pth"
    torch.save(ckpt, pth)
    assert pth.stat().st_size < PTH_LIMIT, pth.stat().st_size
    exp = run(model, x)
    save_file(exp, str(out_dir / "small_cnn_mha.expected.safetensors"), metadata={"fixture": "small_cnn_mha"})
    manifest["fixtures"].append(dict(
        name="small_cnn_mha", variant="cnn_mha", attention="original", file=pth.name,
        attention_heads=model.attention.num_heads,
        attention_note="d=64 gives h=1: softmax over one head is 1, so original and intended agree here",
        container='torch.save zip: {"epoch": 7, "model_state_dict": {"module." + key: tensor}}',
        weights_dtype="float32", num_batches_tracked=1234, num_keys=len(sd),
        expected="small_cnn_mha.expected.safetensors",
        tensors={k: list(v.shape) for k, v in exp.items()},
        size_bytes=pth.stat().st_size, sha256=sha256(pth),
        tolerance_notes="float32 weights, exact load; compare like the parity fixtures (~1e-5 relative)",
        **common))
    print(f"{pth.name}: {pth.stat().st_size} B; expected: "
          + ", ".join(f"{k}{tuple(v.shape)}" for k, v in exp.items()))

    # 2. The same model in BF16 safetensors; expected outputs from the bf16-rounded weights in
    #    float32. (A hybrid would be 4.7 MB: its extractor has 2.2 M parameters at any width.)
    model = make_small("cnn_mha")
    sd = model.state_dict()
    bf16 = OrderedDict((k, v.to(torch.bfloat16).contiguous() if v.is_floating_point() else v.clone())
                       for k, v in sd.items())
    model.load_state_dict({k: (v.float() if v.is_floating_point() else v) for k, v in bf16.items()}, strict=True)
    model.eval()
    st = out_dir / "small_cnn_mha.bf16.safetensors"
    save_file(dict(bf16), str(st), metadata={"format": "pt"})
    exp = run(model, x)
    save_file(exp, str(out_dir / "small_cnn_mha.bf16.expected.safetensors"), metadata={"fixture": "small_cnn_mha_bf16"})
    manifest["fixtures"].append(dict(
        name="small_cnn_mha_bf16", variant="cnn_mha", attention="original", file=st.name,
        attention_heads=model.attention.num_heads,
        container="safetensors, plain keys; float entries BF16, num_batches_tracked I64",
        weights_dtype="bfloat16", num_batches_tracked=1234, num_keys=len(sd),
        expected="small_cnn_mha.bf16.expected.safetensors",
        tensors={k: list(v.shape) for k, v in exp.items()},
        size_bytes=st.stat().st_size, sha256=sha256(st),
        tolerance_notes=("expected computed in float32 from the BF16 weights widened exactly to "
                         "float32 (torch round-to-nearest-even), so only float32 arithmetic differs"),
        **common))
    print(f"{st.name}: {st.stat().st_size} B; expected: "
          + ", ".join(f"{k}{tuple(v.shape)}" for k, v in exp.items()))

    # 3. The seed's app: the model's state dict beside an optimizer's (SGD with momentum: one
    #    buffer per parameter, int keys, floats, bools, None) and the epoch; then a dict whose
    #    only state dict sits under a key of its own. Both hold the weights of fixture 1.
    model = make_small("cnn_mha")
    sd = OrderedDict((k, v.clone()) for k, v in model.state_dict().items())
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    model.train()
    model(x).sum().backward()
    optimizer.step()  # fills the momentum buffers; `sd` keeps the weights from before
    wrapped = [
        ("small_cnn_mha.training.pth", {"model_state_dict": sd, "optimizer_state_dict": optimizer.state_dict(), "epoch": 12},
         'torch.save zip: {"model_state_dict": sd, "optimizer_state_dict": SGD(momentum, nesterov).state_dict(), "epoch": 12}'),
        ("small_cnn_mha.base_model.pth", {"base_model": sd, "note": "weights only"},
         'torch.save zip: {"base_model": sd, "note": str}'),
    ]
    for name, obj, container in wrapped:
        path = out_dir / name
        torch.save(obj, path)
        assert path.stat().st_size < 2 * PTH_LIMIT, path.stat().st_size
        manifest["fixtures"].append(dict(
            name=name.removesuffix(".pth").replace(".", "_"), variant="cnn_mha", attention="original", file=name,
            container=container, weights_dtype="float32", num_keys=len(sd),
            expected="small_cnn_mha.expected.safetensors", size_bytes=path.stat().st_size, sha256=sha256(path),
            tolerance_notes="the weights of small_cnn_mha: its expected outputs", **common))
        print(f"{name}: {path.stat().st_size} B")

    two = out_dir / "two_state_dicts.pth"
    torch.save({"student": {"w": torch.ones(2)}, "teacher": {"w": torch.zeros(2)}, "empty": {}}, two)
    manifest["fixtures"].append(dict(name="two_state_dicts", file=two.name, expected_error="2 state dicts, under student, teacher",
                                     size_bytes=two.stat().st_size, sha256=sha256(two)))

    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
