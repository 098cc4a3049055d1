"""Write Fixtures/metrics/*: pytorch-grad-cam 1.5.7's metrics and torchcam 0.5's deletion /
insertion AUCs of one Grad-CAM map per image (itself pytorch-grad-cam's, stored as "cam") on the
small seeded ConvNeXt (`cnn`, 5 classes) and the seeded (2, 3, 64, 64) input, top-1 targets.
The confidence changes and ROAD combined scored as the gallery scores them, on the top-1
class's probability (`ClassifierOutputSoftmaxTarget`), go to a file of their own with the map
they were computed from (ROAD's percentile thresholds turn on the map's last bits).

pytorch-grad-cam's ROAD imputer adds `0.01 * torch.randn` to the imputed pixels; the fixture is
made with that noise set to 0 (the imputer's `noise` default patched), so that the numbers are
the deterministic linear imputation. torchcam's metric is fed the stored map through a minimal
extractor (its protocol: `model`, `__call__`, `fuse_cams`, `_hooks_off`).

Run from the repo root:  python scripts/reference/make_metric_fixtures.py
"""
from __future__ import annotations

import contextlib
import json
import sys
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from importlib.metadata import version  # noqa: E402
from pytorch_grad_cam import GradCAM  # noqa: E402
from pytorch_grad_cam.metrics import road  # noqa: E402
from pytorch_grad_cam.metrics.cam_mult_image import (CamMultImageConfidenceChange, DropInConfidence,  # noqa: E402
                                                      IncreaseInConfidence)
from pytorch_grad_cam.utils.model_targets import ClassifierOutputSoftmaxTarget, ClassifierOutputTarget  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402
from torchcam.metrics import DeletionInsertionMetric  # noqa: E402

from make_method_fixtures import SMALL_INPUT, build_model  # noqa: E402
from seeded_weights import seeded_input  # noqa: E402

OUT = HERE.parent.parent / "Fixtures" / "metrics"
PERCENTILES = [10, 20, 30, 40, 50, 60, 70, 80, 90]


class GivenCAM:
    """torchcam's extractor protocol around maps computed elsewhere."""

    def __init__(self, model, cams):
        self.model, self.cams = model, cams

    def __call__(self, class_idx, scores=None):
        return [self.cams]

    def fuse_cams(self, cams):
        return cams[0]

    @contextlib.contextmanager
    def _hooks_off(self):
        yield


def main():
    torch.set_num_threads(1)
    road.NoisyLinearImputer.__init__.__defaults__ = (0.0, road.neighbors_weights)
    model = build_model("small_cnn")
    x = torch.from_numpy(seeded_input(SMALL_INPUT))
    with torch.no_grad():
        logits = model(x)
    top = [int(c) for c in logits.argmax(dim=1)]
    targets = [ClassifierOutputTarget(c) for c in top]
    cam = GradCAM(model=model, target_layers=[model.backbone.stages[2]])(input_tensor=x, targets=targets)

    t = {"cam": cam, "logits": logits.numpy()}
    t["cam_mult_image"] = CamMultImageConfidenceChange()(x, cam, targets, model)
    t["drop_in_confidence"] = DropInConfidence()(x, cam, targets, model)
    t["increase_in_confidence"] = IncreaseInConfidence()(x, cam, targets, model)
    t["road_morf"] = np.stack([road.ROADMostRelevantFirst(p)(x, cam, targets, model) for p in PERCENTILES], axis=1)
    t["road_lerf"] = np.stack([road.ROADLeastRelevantFirst(p)(x, cam, targets, model) for p in PERCENTILES], axis=1)
    t["road_morf_average"] = road.ROADMostRelevantFirstAverage(PERCENTILES)(x, cam, targets, model)
    t["road_lerf_average"] = road.ROADLeastRelevantFirstAverage(PERCENTILES)(x, cam, targets, model)
    t["road_combined"] = road.ROADCombined(PERCENTILES)(x, cam, targets, model)
    for name, fn in (("logits", None), ("softmax", partial(torch.softmax, dim=-1))):
        for i in range(len(x)):  # one image per update: the AUC of each image
            metric = DeletionInsertionMetric(GivenCAM(model, torch.from_numpy(cam[i:i + 1])), fn, steps=20, batch_size=8)
            metric.update(x[i:i + 1], class_idx=top[i])
            s = metric.summary()
            t.setdefault(f"deletion_auc_{name}", []).append(s["deletion_auc"])
            t.setdefault(f"insertion_auc_{name}", []).append(s["insertion_auc"])
    probabilities = [ClassifierOutputSoftmaxTarget(c) for c in top]
    soft = {"cam": cam}
    soft["cam_mult_image"] = CamMultImageConfidenceChange()(x, cam, probabilities, model)
    soft["drop_in_confidence"] = DropInConfidence()(x, cam, probabilities, model)
    soft["increase_in_confidence"] = IncreaseInConfidence()(x, cam, probabilities, model)
    soft["road_combined"] = road.ROADCombined(PERCENTILES)(x, cam, probabilities, model)
    t = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in t.items()}
    soft = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in soft.items()}
    OUT.mkdir(parents=True, exist_ok=True)
    metadata = {"fixture": f"grad-cam {version('grad-cam')}, torchcam {version('torchcam')}, seeded weights v1"}
    save_file(t, str(OUT / "small_cnn_gradcam_metrics.safetensors"), metadata=metadata)
    save_file(soft, str(OUT / "small_cnn_gradcam_softmax_metrics.safetensors"), metadata=metadata)
    (OUT / "manifest.json").write_text(json.dumps({
        "format": "camkit-metrics-v1", "grad_cam": version("grad-cam"), "torchcam": version("torchcam"),
        "model": "small_cnn", "input_shape": list(SMALL_INPUT), "layer": "backbone.stages.2", "top1": top,
        "percentiles": PERCENTILES, "road_noise": 0.0, "deletion_insertion": {"steps": 20, "baseline": "zeros"},
        "tensors": {k: list(v.shape) for k, v in t.items()},
        "softmax_target_tensors": {k: list(v.shape) for k, v in soft.items()},
    }, indent=1, sort_keys=True) + "\n")
    for name, tensors in (("logits", t), ("softmax", soft)):
        for k, v in tensors.items():
            if k != "cam":
                print(name, k, v.tolist() if v.size < 20 else v.shape)


if __name__ == "__main__":
    main()
