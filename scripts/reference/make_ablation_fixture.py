"""Write Fixtures/real/efficientnet_lite0_ablationcam_seeded224.safetensors: pytorch-grad-cam
1.5.7's Ablation-CAM of the pretrained EfficientNet-Lite0 at `_head_act` (the output of
extract_features, after the head ReLU6) on the seeded 224 input, top-1 target.

The reference model shares one `_swish` module for every activation, so the layer is given to
the library as a module of a wrapper whose `features` returns extract_features: the library
swaps that module for its AblationLayer, as it swaps the layer itself in a model where the
layer is a module. Stored: the library's returned map ("cam"), its low-resolution map for the
layer ("lowres._head_act", get_cam_image's output after np.maximum(., 0) and scale_cam_image,
captured during the same call), and the logits.

Needs the weights (`make models`). Run from the repo root:
    python scripts/reference/make_ablation_fixture.py
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("TQDM_DISABLE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from pytorch_grad_cam import AblationCAM  # noqa: E402
from pytorch_grad_cam.utils.image import scale_cam_image  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402

from make_real_model_fixtures import EFFNET_WEIGHTS, OUT, effnet_model  # noqa: E402
from seeded_weights import seeded_input  # noqa: E402


class Features(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model.extract_features(x)


class Split(torch.nn.Module):
    """EfficientNet-Lite0 as `features` (up to `_head_act`) and its pooled classifier."""

    def __init__(self, model):
        super().__init__()
        self.features = Features(model)
        self.model = model

    def forward(self, x):
        m = self.model
        return m._fc(m._dropout(m._avg_pooling(self.features(x)).flatten(1)))


def main():
    if not EFFNET_WEIGHTS.exists():
        sys.exit(f"{EFFNET_WEIGHTS} missing: run `make models` first")
    model = Split(effnet_model(224)).eval()
    x = torch.from_numpy(seeded_input((1, 3, 224, 224)))
    with torch.no_grad():
        logits = model(x)
    cam = AblationCAM(model=model, target_layers=[model.features])
    images = []
    original = cam.get_cam_image

    def recording(*args, **kwargs):
        out = original(*args, **kwargs)
        images.append(np.array(out, copy=True))
        return out

    cam.get_cam_image = recording
    out = cam(input_tensor=x, targets=None)
    cam.activations_and_grads.release()
    assert len(images) == 1, len(images)
    tensors = {
        "cam": np.asarray(out, dtype=np.float32),
        "lowres._head_act": np.asarray(scale_cam_image(np.maximum(images[0], 0), None), dtype=np.float32),
        "logits": logits.numpy(),
    }
    name = "efficientnet_lite0_ablationcam_seeded224.safetensors"
    save_file(tensors, str(OUT / name))
    print(f"  {name}: top-1 {int(logits[0].argmax())}, lowres {list(tensors['lowres._head_act'].shape)}")


if __name__ == "__main__":
    main()
