"""Write Fixtures/real/efficientnet_lite0_methods_seeded224.safetensors: pytorch-grad-cam 1.5.7's
Finer-CAM (at `_head_act`, default ranks and alpha, top-1) and FullGrad (every BatchNorm2d: the
model's convolutions are Conv2dStaticSamePadding, a subclass the library's exact-type test
skips) of the pretrained EfficientNet-Lite0 on the seeded 224 input. Stored: "cam.finercam",
"cam.fullgrad" (the library's return values) and "logits".

Needs the weights (`make models`). Run from the repo root:
    python scripts/reference/make_real_method_fixtures.py
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from pytorch_grad_cam import FinerCAM, FullGrad  # noqa: E402
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402

from make_ablation_fixture import Split  # noqa: E402
from make_real_model_fixtures import EFFNET_WEIGHTS, OUT, effnet_model  # noqa: E402
from seeded_weights import seeded_input  # noqa: E402


def main():
    if not EFFNET_WEIGHTS.exists():
        sys.exit(f"{EFFNET_WEIGHTS} missing: run `make models` first")
    torch.set_num_threads(1)
    x = torch.from_numpy(seeded_input((1, 3, 224, 224)))
    split = Split(effnet_model(224)).eval()
    with torch.no_grad():
        logits = split(x)
    finer = FinerCAM(model=split, target_layers=[split.features])(input_tensor=x, targets=None)
    # FullGrad on the plain model: the wrapper would list every layer twice.
    plain = effnet_model(224)
    fullgrad = FullGrad(model=plain, target_layers=[])(input_tensor=x, targets=[ClassifierOutputTarget(int(logits[0].argmax()))])
    tensors = {"cam.finercam": finer, "cam.fullgrad": fullgrad, "logits": logits.numpy()}
    tensors = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}
    name = "efficientnet_lite0_methods_seeded224.safetensors"
    save_file(tensors, str(OUT / name))
    print(f"  {name}: top-1 {int(logits[0].argmax())}, {', '.join(f'{k}{list(v.shape)}' for k, v in tensors.items())}")


if __name__ == "__main__":
    main()
