"""Write Fixtures/onnx/*: small timm models exported to ONNX by both torch exporters, with the
torch logits and pytorch-grad-cam 1.5.7 maps they must reproduce.

Run from the repo root:  python scripts/reference/make_onnx_fixtures.py
Idempotent: every file is written to a temporary folder first and only copied over the
committed one when its bytes differ; the manifest has sorted keys and no timings.

Per family (timm class at a small configuration, seeded weights v1 by state-dict key with the
BatchNorm running statistics, eval mode, batch-1 seeded input under the key `input`):
- `<family>.dynamo.onnx` (+ `<family>.dynamo.onnx.data`): `torch.onnx.export(model, (x,))`,
  the default torch.export-based exporter, opset and options at their defaults, saved by
  `ONNXProgram.save(path, external_data=True)` exactly as `torch.onnx.export(model, (x,), path)`
  does. One change: the `pkg.torch.onnx.stack_trace` node metadata is removed before saving
  (it holds absolute paths of the generating machine's site-packages and is half the file).
- `<family>.torchscript.onnx`: `torch.onnx.export(model, (x,), path, dynamo=False)`, untouched.
- `<family>.safetensors`: `input`, `logits` (torch), `ort_logits.<exporter>` (onnxruntime on each
  file), and per layer L and method M `cam.M.L` (the library's return value, input size) and
  `lowres.M.L` (the library's get_cam_image output for that call, np.maximum(., 0) and
  scale_cam_image(., None), as in Fixtures/cam). The maps come from the torch model, so they are
  the same for both exporters: both exporters' cases point at the same file.

manifest.json lists per model file its op types (with domain, opset and the op's schema
version), initializer types, external-data facts, graph inputs/outputs, the ONNX values that
equal each named layer's activation (found by running every intermediate value through
onnxruntime) and max |ort - torch| of the logits; and one case per (family, exporter, layer,
method). EXPORTS.md describes in words what each exporter writes (it is generated here from
the same analysis, plus fixed remarks that were checked by hand on these files).
"""
from __future__ import annotations

import collections
import copy
import hashlib
import json
import os
import shutil
import sys
import tempfile
import warnings
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("TQDM_DISABLE", "1")

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from importlib.metadata import version  # noqa: E402
from onnx import numpy_helper  # noqa: E402
from pytorch_grad_cam import EigenCAM, GradCAM, GradCAMPlusPlus, HiResCAM, LayerCAM  # noqa: E402
from pytorch_grad_cam.utils.image import scale_cam_image  # noqa: E402
from safetensors.numpy import save as st_save  # noqa: E402

from make_cam_fixtures import Recorder, svd_signs  # noqa: E402
from seeded_weights import seeded_input, seeded_state_dict  # noqa: E402

REPO = HERE.parent.parent
OUT = REPO / "Fixtures" / "onnx"
SEED = 0
NUM_CLASSES = 10
EXPORTERS = ("dynamo", "torchscript")
METHODS = {"gradcam": GradCAM, "gradcam++": GradCAMPlusPlus, "layercam": LayerCAM,
           "hirescam": HiResCAM, "eigencam": EigenCAM}
STRIPPED_METADATA = ("pkg.torch.onnx.stack_trace",)
# H != W on purpose (a swapped (H, W) shows at once); 48 x 80 is not a multiple of 32, so strided convs
# and pools meet odd sizes (80 -> 40 -> 20 -> 10 -> 5 -> 3).
CNN_INPUT = (1, 3, 48, 80)
TOKEN_INPUT = (1, 3, 32, 48)
SWIN_INPUT = (1, 3, 32, 64)
CONVNEXT_INPUT = (1, 3, 64, 96)  # ConvNeXt downsamples by k2/s2 convs, which floor: 48x80 would end at 1x2


# --------------------------------------------------------------------------------------------
# The models (timm classes, small configurations; pretrained weights are never fetched).

def build_resnet():
    from timm.models.resnet import BasicBlock, ResNet
    # timm's plain stem is fixed at 64 channels; the 'deep' stem (3 convs) honours stem_width.
    # output_stride 16: layer4 keeps layer3's resolution with dilation-2 convs (the only family with
    # dilated convolutions, and a 3x5 map at the default layer instead of 2x3).
    return ResNet(block=BasicBlock, layers=[1, 1, 1, 1], channels=(8, 12, 16, 24), stem_type="deep",
                  stem_width=8, output_stride=16, num_classes=NUM_CLASSES)


def build_convnext():
    from timm.models.convnext import ConvNeXt
    return ConvNeXt(depths=(1, 1, 1, 1), dims=(8, 16, 24, 32), num_classes=NUM_CLASSES)


def build_efficientnet():
    from timm.models._efficientnet_builder import decode_arch_def, resolve_act_layer, round_channels
    from timm.models.efficientnet import EfficientNet
    # efficientnet_b0's arch def (depthwise-separable + inverted residuals with SE, SiLU), one block
    # per stage, channels x 0.125, the last three stages with expansion 3 instead of 6.
    arch = [["ds_r1_k3_s1_e1_c16_se0.25"], ["ir_r1_k3_s2_e6_c24_se0.25"], ["ir_r1_k5_s2_e6_c40_se0.25"],
            ["ir_r1_k3_s2_e6_c80_se0.25"], ["ir_r1_k5_s1_e3_c112_se0.25"], ["ir_r1_k5_s2_e3_c192_se0.25"],
            ["ir_r1_k3_s1_e3_c320_se0.25"]]
    rc = partial(round_channels, multiplier=0.125, divisor=8)
    return EfficientNet(block_args=decode_arch_def(arch), num_features=96, stem_size=32, round_chs_fn=rc,
                        act_layer=resolve_act_layer({}, "swish"), num_classes=NUM_CLASSES)


def build_mobilenetv3():
    from timm.models._efficientnet_blocks import SqueezeExcite
    from timm.models._efficientnet_builder import decode_arch_def, resolve_act_layer, round_channels
    from timm.models.mobilenetv3 import MobileNetV3
    # mobilenetv3_large_100's arch def, one block per stage, channels x 0.125 (stem fixed at 16):
    # ReLU in the first stages, hard-swish later, SE gated by hard-sigmoid, conv_head after pooling.
    arch = [["ds_r1_k3_s1_e1_c16_nre"], ["ir_r1_k3_s2_e4_c24_nre"], ["ir_r1_k5_s2_e3_c40_se0.25_nre"],
            ["ir_r1_k3_s2_e6_c80"], ["ir_r1_k3_s1_e3_c112_se0.25"], ["ir_r1_k5_s2_e3_c160_se0.25"],
            ["cn_r1_k1_s1_c480"]]
    se = partial(SqueezeExcite, gate_layer="hard_sigmoid", force_act_layer=nn.ReLU, rd_round_fn=round_channels)
    return MobileNetV3(block_args=decode_arch_def(arch), num_features=48, stem_size=16, fix_stem=True,
                       round_chs_fn=partial(round_channels, multiplier=0.125),
                       act_layer=resolve_act_layer({}, "hard_swish"), se_layer=se, num_classes=NUM_CLASSES)


def build_regnet():
    from timm.models.regnet import RegNet, RegNetCfg
    # RegNetY-style (SE, grouped 3x3 convs of group size 8): 4 stages of one block, widths 8-16-24-40.
    return RegNet(RegNetCfg(w0=8, wa=12.0, wm=1.5, group_size=8, depth=4, se_ratio=0.25, stem_width=8),
                  num_classes=NUM_CLASSES)


def build_vit():
    from timm.models.vision_transformer import VisionTransformer
    return VisionTransformer(img_size=TOKEN_INPUT[2:], patch_size=8, embed_dim=32, depth=2, num_heads=2,
                             mlp_ratio=2.0, num_classes=NUM_CLASSES)


def build_deit():
    from timm.models.deit import VisionTransformerDistilled
    return VisionTransformerDistilled(img_size=TOKEN_INPUT[2:], patch_size=8, embed_dim=32, depth=2, num_heads=2,
                                      mlp_ratio=2.0, num_classes=NUM_CLASSES)


def build_swin():
    from timm.models.swin_transformer import SwinTransformer
    # Two stages of two blocks: the second block of each stage is the shifted-window one.
    return SwinTransformer(img_size=SWIN_INPUT[2:], patch_size=4, window_size=4, embed_dim=16, depths=(2, 2),
                           num_heads=(1, 2), mlp_ratio=2.0, num_classes=NUM_CLASSES)


def spatial():
    return {"kind": "spatial"}


def tokens(prefix: int, grid: tuple[int, int]):
    return {"kind": "tokens", "prefix_tokens": prefix, "grid": list(grid)}


def channels_last(grid: tuple[int, int]):
    return {"kind": "channels_last", "grid": list(grid)}


# layers: module path -> layout. The first is the default layer ("last spatial map before global
# pooling"; token models: the last block's output, or for class-token pooling the last block's
# norm1, see notes.class_token_zero_gradients); the others are other layers.
FAMILIES = {
    "resnet": dict(build=build_resnet, input=CNN_INPUT, timm="timm.models.resnet.ResNet",
                   config="BasicBlock, layers 1-1-1-1, channels 8-12-16-24, deep stem width 8, output_stride 16",
                   layers={"layer4": spatial(), "layer2": spatial()}),
    "convnext": dict(build=build_convnext, input=CONVNEXT_INPUT, timm="timm.models.convnext.ConvNeXt",
                     config="depths 1-1-1-1, dims 8-16-24-32 (LayerNorm2d, depthwise 7x7, GELU, layer scale)",
                     layers={"stages.3": spatial()}),
    "efficientnet": dict(build=build_efficientnet, input=CNN_INPUT, timm="timm.models.efficientnet.EfficientNet",
                         config="efficientnet_b0 arch def, 1 block per stage, channels x0.125, head 96",
                         layers={"bn2": spatial(), "blocks.4": spatial()}),
    "mobilenetv3": dict(build=build_mobilenetv3, input=CNN_INPUT, timm="timm.models.mobilenetv3.MobileNetV3",
                        config="mobilenetv3_large arch def, 1 block per stage, channels x0.125, head 48",
                        layers={"blocks.6": spatial()}),
    "regnet": dict(build=build_regnet, input=CNN_INPUT, timm="timm.models.regnet.RegNet",
                   config="RegNetCfg(w0=8, wa=12, wm=1.5, group_size=8, depth=4, se_ratio=0.25, stem_width=8)",
                   layers={"s4": spatial()}),
    "vit": dict(build=build_vit, input=TOKEN_INPUT, timm="timm.models.vision_transformer.VisionTransformer",
                config="img 32x48, patch 8 (grid 4x6), embed 32, depth 2, heads 2, mlp 2, class token",
                layers={"blocks.1.norm1": tokens(1, (4, 6)), "blocks.1": tokens(1, (4, 6))}),
    "deit": dict(build=build_deit, input=TOKEN_INPUT, timm="timm.models.deit.VisionTransformerDistilled",
                 config="as vit, with class and distillation tokens (eval: mean of the two heads)",
                 layers={"blocks.1.norm1": tokens(2, (4, 6)), "blocks.1": tokens(2, (4, 6))}),
    "swin": dict(build=build_swin, input=SWIN_INPUT, timm="timm.models.swin_transformer.SwinTransformer",
                 config="img 32x64, patch 4, window 4, embed 16, depths 2-2, heads 1-2, mlp 2 (NHWC stages)",
                 layers={"layers.1": channels_last((4, 8)), "layers.0": channels_last((8, 16))}),
}


def reshape_transform_for(layout: dict):
    """pytorch-grad-cam's documented reshape_transform for ViT (tokens) and Swin (channels last)."""
    if layout["kind"] == "tokens":
        prefix, (h, w) = layout["prefix_tokens"], layout["grid"]

        def vit_reshape(tensor, height=h, width=w):
            result = tensor[:, prefix:, :].reshape(tensor.size(0), height, width, tensor.size(2))
            return result.transpose(2, 3).transpose(1, 2)
        return vit_reshape
    if layout["kind"] == "channels_last":
        def swin_reshape(tensor):
            return tensor.permute(0, 3, 1, 2)
        return swin_reshape
    return None


def build_model(family: str) -> nn.Module:
    model = FAMILIES[family]["build"]()
    model.load_state_dict(seeded_state_dict(model, SEED), strict=True)
    return model.eval()


# --------------------------------------------------------------------------------------------
# Grad-CAM reference.

def run_cam(model, method, layer, layout, x):
    modules = dict(model.named_modules())
    cam = METHODS[method](model=model, target_layers=[modules[layer]], reshape_transform=reshape_transform_for(layout))
    rec = Recorder(cam)
    try:
        out = cam(input_tensor=x, targets=None)
    finally:
        rec.close()
        cam.activations_and_grads.release()
    assert len(rec.cam_images) == 1, (method, layer)
    raw = np.maximum(rec.cam_images[0], 0)
    lowres = scale_cam_image(raw, None)
    info = {"raw_max": float(raw.reshape(raw.shape[0], -1).max(axis=1)[0])}
    if rec.svd_inputs:
        info["svd"] = [svd_signs(b) for b in rec.svd_inputs]
    return np.asarray(out, dtype=np.float32), np.asarray(lowres, dtype=np.float32), info


def capture_activations(model, layers, x):
    """Logits, and per layer the module's output and the gradient of the top-1 logit w.r.t. it."""
    modules = dict(model.named_modules())
    acts, hooks = {}, []

    def hook(_m, _i, out, name):
        out.retain_grad()
        acts[name] = out
    for name in layers:
        hooks.append(modules[name].register_forward_hook(partial(hook, name=name)))
    logits = model(x)
    for h in hooks:
        h.remove()
    logits[0, int(logits[0].argmax())].backward()
    model.zero_grad(set_to_none=True)
    grads = {k: v.grad.detach().numpy().copy() for k, v in acts.items()}
    return logits.detach().numpy(), {k: v.detach().numpy().copy() for k, v in acts.items()}, grads


def drift(a: np.ndarray, b: np.ndarray) -> float:
    return float(f"{float(np.abs(np.float64(a) - np.float64(b)).max()):.3g}")


# --------------------------------------------------------------------------------------------
# Export.

def export(model, x, exporter: str, path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if exporter == "torchscript":
            torch.onnx.export(model, (x,), str(path), dynamo=False)
            return
        program = torch.onnx.export(model, (x,))
    for node in program.model.graph.all_nodes():
        for key in STRIPPED_METADATA:
            node.metadata_props.pop(key, None)
    program.save(str(path), external_data=True)


def ort_session(model_bytes_or_path, threads=1):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(model_bytes_or_path, so, providers=["CPUExecutionProvider"])


def ort_all_values(path: Path, x: np.ndarray) -> tuple[dict, dict]:
    """Every node output of the model, computed by onnxruntime (shape inference supplies types)."""
    mp = onnx.load(str(path))
    inferred = onnx.shape_inference.infer_shapes(mp)
    vi = {v.name: v for v in inferred.graph.value_info}
    have = {o.name for o in mp.graph.output}
    producer = {}
    for node in mp.graph.node:
        for o in node.output:
            producer[o] = node
            if o and o not in have and o in vi and vi[o].type.tensor_type.elem_type == onnx.TensorProto.FLOAT:
                mp.graph.output.append(vi[o])
                have.add(o)
    sess = ort_session(mp.SerializeToString())
    names = [o.name for o in sess.get_outputs()]
    values = dict(zip(names, sess.run(None, {sess.get_inputs()[0].name: x})))
    return values, producer


def node_scope(node) -> dict:
    md = {kv.key: kv.value for kv in node.metadata_props}
    out = {"node": node.name, "op": node.op_type}
    for key in ("pkg.torch.onnx.name_scopes", "pkg.torch.onnx.class_hierarchy"):
        if key in md:
            out[key.rsplit(".", 1)[-1]] = json.loads(md[key].replace("'", '"'))
    return out


def match_layer_values(values, producer, order, acts) -> dict:
    """ONNX values equal (within 1e-5 of the scale) to each layer's torch activation, in graph order."""
    out = {}
    for layer, act in acts.items():
        scale = max(1.0, float(np.abs(act).max()))
        hits = []
        for name in order:
            v = values.get(name)
            if v is None or v.shape != act.shape:
                continue
            d = float(np.abs(v - act).max())
            if d <= 1e-5 * scale:
                hits.append(dict(value=name, max_abs_diff=float(f"{d:.3g}"), **node_scope(producer[name])))
        out[layer] = hits
    return out


# --------------------------------------------------------------------------------------------
# Static analysis of an exported file.

def dtype_name(t: int) -> str:
    return onnx.TensorProto.DataType.Name(t)


def dims_of(value_info) -> list:
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in value_info.type.tensor_type.shape.dim]


def short_attr(a) -> object:
    v = onnx.helper.get_attribute_value(a)
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, onnx.TensorProto):
        arr = numpy_helper.to_array(v)
        return f"tensor {dtype_name(v.data_type)} {list(arr.shape)}" + (f" {arr.tolist()}" if arr.size <= 8 else "")
    if isinstance(v, float):
        return float(f"{v:.6g}")
    if isinstance(v, list):
        return [float(f"{e:.6g}") if isinstance(e, float) else e for e in v]
    return v


def analyse(path: Path, state: dict) -> dict:
    mp = onnx.load(str(path), load_external_data=False)
    g = mp.graph
    opsets = {o.domain: o.version for o in mp.opset_import}
    inits = {i.name: i for i in g.initializer}
    consts = {o: n for n in g.node if n.op_type == "Constant" for o in n.output}
    producer = {o: n for n in g.node for o in n.output}

    def source(name: str) -> str:
        if name == "":
            return "absent"
        if name in inits:
            return "initializer"
        if name in consts:
            return "Constant"
        if name in producer:
            return f"computed ({producer[name].op_type})"
        return "graph input"

    ops: dict = {}
    for n in g.node:
        dom = n.domain or ""
        e = ops.setdefault(n.op_type, {"domain": dom, "opset": opsets.get(dom), "count": 0, "attributes": {}})
        e["count"] += 1
        try:
            e["since_version"] = onnx.defs.get_schema(n.op_type, opsets.get(dom, 1), dom).since_version
        except Exception:  # noqa: BLE001
            e["since_version"] = None
        for a in n.attribute:
            vals = e["attributes"].setdefault(a.name, [])
            v = short_attr(a)
            if v not in vals and len(vals) < 6:
                vals.append(v)
    for e in ops.values():
        e["attributes"] = {k: sorted(v, key=json.dumps) for k, v in sorted(e["attributes"].items())}

    input_forms = collections.defaultdict(collections.Counter)
    for n in g.node:
        if n.op_type in ("Reshape", "Slice", "Split", "Pad", "Expand", "Squeeze", "Unsqueeze", "ReduceMean",
                         "ReduceSum", "Tile", "ConstantOfShape", "Range", "Gather", "Where", "Resize"):
            form = [source(i) for i in n.input[1:]] if n.op_type != "ConstantOfShape" else [source(n.input[0])]
            extra = ""
            if n.op_type == "Split":
                extra = " num_outputs=%s" % next((onnx.helper.get_attribute_value(a) for a in n.attribute
                                                  if a.name == "num_outputs"), "-")
            input_forms[n.op_type][", ".join(form) + extra] += 1

    init_types = collections.Counter()
    external, inline = [], []
    locations = set()
    for i in g.initializer:
        init_types[f"{dtype_name(i.data_type)} {'scalar' if not i.dims else f'{len(i.dims)}-D'}"] += 1
        if i.data_location == onnx.TensorProto.EXTERNAL:
            info = {kv.key: kv.value for kv in i.external_data}
            locations.add(info.get("location"))
            external.append(int(info.get("length", 0)))
        else:
            inline.append(len(i.raw_data) or max(len(i.float_data), len(i.int64_data), len(i.int32_data)))
    const_types = collections.Counter()
    for n in consts.values():
        for a in n.attribute:
            if a.type == onnx.AttributeProto.TENSOR:
                const_types[f"{dtype_name(a.t.data_type)} {'scalar' if not a.t.dims else f'{len(a.t.dims)}-D'}"] += 1
            else:
                const_types[f"attr {a.name}"] += 1
    md_keys = collections.Counter(kv.key for n in g.node for kv in n.metadata_props)
    names = {"state_dict_key_same_values": 0, "state_dict_key_other_values": [], "other_names": 0,
             "other_name_examples": []}
    full = {i.name: i for i in onnx.load(str(path)).graph.initializer}
    for i in g.initializer:
        if i.name in state:
            same = numpy_helper.to_array(full[i.name]).shape == state[i.name].shape and \
                np.array_equal(numpy_helper.to_array(full[i.name]), state[i.name])
            if same:
                names["state_dict_key_same_values"] += 1
            else:
                names["state_dict_key_other_values"].append(i.name)
        else:
            names["other_names"] += 1
            if len(names["other_name_examples"]) < 4 and i.data_type == onnx.TensorProto.FLOAT:
                names["other_name_examples"].append(f"{i.name} {list(i.dims)}")
    names["state_dict_key_other_values"] = sorted(names["state_dict_key_other_values"])[:6] + (
        ["..."] if len(names["state_dict_key_other_values"]) > 6 else [])
    examples = []
    seen = set()
    for n in g.node:
        if n.op_type in ("Conv", "MatMul", "Gemm", "LayerNormalization", "HardSwish") and n.op_type not in seen:
            seen.add(n.op_type)
            examples.append(dict(node_scope(n), inputs=list(n.input), outputs=list(n.output),
                                 **{k: v for k, v in ((kv.key, kv.value) for kv in n.metadata_props)
                                    if k in ("pkg.onnxscript.rewriter.rule_name", "namespace")}))
    shape_nodes = sum(1 for n in g.node if n.op_type == "Shape")
    return {
        "ir_version": mp.ir_version,
        "opset_import": opsets,
        "producer": f"{mp.producer_name} {mp.producer_version}",
        "nodes": len(g.node),
        "functions": len(mp.functions),
        "graph_inputs": [{"name": i.name, "dtype": dtype_name(i.type.tensor_type.elem_type), "dims": dims_of(i)}
                         for i in g.input],
        "graph_outputs": [{"name": o.name, "dtype": dtype_name(o.type.tensor_type.elem_type), "dims": dims_of(o)}
                          for o in g.output],
        "value_info": len(g.value_info),
        "model_metadata_props": {kv.key: kv.value for kv in mp.metadata_props},
        "ops": dict(sorted(ops.items())),
        "input_forms": {k: dict(sorted(v.items())) for k, v in sorted(input_forms.items())},
        "initializers": {"count": len(g.initializer), "types": dict(sorted(init_types.items())),
                         "external": len(external), "external_bytes": sum(external),
                         "inline": len(inline), "inline_max_bytes": max(inline, default=0),
                         "external_min_bytes": min(external, default=0),
                         "locations": sorted(x for x in locations if x)},
        "constant_nodes": dict(sorted(const_types.items())),
        "shape_nodes": shape_nodes,
        "node_metadata_keys": dict(sorted(md_keys.items())),
        "node_name_examples": [n.name for n in g.node[:3]] + [n.name for n in g.node[-3:]],
        "node_examples": examples,
        "initializer_names": names,
    }


# --------------------------------------------------------------------------------------------
# Output helpers.

def write_if_changed(path: Path, data: bytes) -> None:
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


def dump_manifest(manifest: dict) -> str:
    """Sorted-key JSON; cases one per line, models and notes one entry per line."""
    d = lambda v: json.dumps(v, sort_keys=True)  # noqa: E731
    parts = []
    for k in sorted(manifest):
        v = manifest[k]
        if k == "cases":
            body = "[\n" + ",\n".join("  " + d(c) for c in v) + "\n ]"
        elif isinstance(v, dict) and k in ("models", "notes", "families"):
            body = "{\n" + ",\n".join(f"  {d(n)}: {d(v[n])}" for n in sorted(v)) + "\n }"
        else:
            body = d(v)
        parts.append(f" {d(k)}: {body}")
    text = "{\n" + ",\n".join(parts) + "\n}\n"
    assert json.loads(text) == json.loads(json.dumps(manifest))
    return text


NOTES = {
    "tolerance": (
        "logits: |ours - logits| <= 1e-4 * max(1, max|logits|) for both exporters (the ONNX files hold the "
        "same function; dynamo folds BatchNorm into Conv and pre-transposes Linear weights, so values differ "
        "from torch by float32 rounding: see models.*.ort_max_abs_diff_logits). maps: max |ours - cam| <= 1e-3 "
        "and max |ours - lowres| <= 1e-3. Where raw_max (max of relu(get_cam_image)) is small (< 1e-5) the normalised "
        "map depends visibly on the 1e-7 of scale_cam_image (still exact arithmetic, so comparable); raw_max 0 means "
        "an all-zero map. float64_drift: the same pytorch-grad-cam call on a float64 copy of the model differs "
        "from the stored float32 maps by this much, a measure of how rounding-sensitive the case is. "
        "activation.<layer> / gradient.<layer>: the module's raw output (before any reshape_transform) and the "
        "gradient of the top-1 logit w.r.t. it: a direct check of the backward pass, independent of the "
        "methods' ReLU."),
    "pipeline": (
        "Same as Fixtures/cam: cam = the library's return value for targets=None (top-1 of the logits, the raw "
        "logit as score), one target layer per call; lowres = scale_cam_image(np.maximum(get_cam_image, 0), None) "
        "of that call (max m/(m+1e-7)); cam = cv2.resize(lowres, (W, H)) bilinear, then scale_cam_image again "
        "(aggregate_multi_layers). Token layers go through pytorch-grad-cam's documented reshape_transform "
        "before everything: ViT/DeiT tensor[:, prefix:, :].reshape(N, h, w, C).transpose(2, 3).transpose(1, 2) "
        "(row-major patch grid); Swin (N, h, w, C).permute(0, 3, 1, 2)."),
    "class_token_zero_gradients": (
        "ViT and DeiT pool the class (and distillation) token: after the last block only the final LayerNorm "
        "(per token) and the token pick follow, so the gradient of the logit w.r.t. the patch tokens of "
        "blocks.1's output is exactly 0 and Grad-CAM, Grad-CAM++, LayerCAM and HiResCAM at blocks.1 are all-zero "
        "maps (raw_max 0); only Eigen-CAM (no gradients) shows something there. blocks.1.norm1 (the layer "
        "pytorch-grad-cam's docs use for ViT) gets gradients through attention and gives real maps, so it is "
        "the default layer of class-token models."),
    "gap_equivalence": (
        "At a default CNN layer followed only by global average pooling the gradient is constant over h x w, so "
        "HiResCAM = Grad-CAM there (LayerCAM differs: relu(g))."),
    "eigencam": (
        "get_2d_projection (numpy SVD, sign as LAPACK returns it; see Fixtures/cam notes.svd). 'svd' in the case "
        "holds the sign facts: orient the projection so that its largest-|.| element is positive iff "
        "projection_maxabs_positive, then ReLU and normalise."),
    "threads": "torch.set_num_threads(1); onnxruntime intra_op_num_threads 1, default graph optimisation.",
    "stripped_metadata": (
        "Dynamo files: node metadata 'pkg.torch.onnx.stack_trace' removed before ONNXProgram.save (absolute "
        "site-packages paths of the generating machine; ~40% of the .onnx). Everything else is as exported. "
        "TorchScript files are exactly what torch.onnx.export(..., dynamo=False) writes."),
    "layer_values": (
        "models.<file>.layers.<layer>: every ONNX node output whose onnxruntime value equals the torch module's "
        "output (within 1e-5 of its scale), in graph order, with the producing node's name, op and (dynamo) "
        "name_scopes / class_hierarchy metadata. The module's output is the last entry whose node lies inside "
        "the module (several entries: Identity, or a consumer that does not change the values)."),
}


# Remarks checked by hand on these files (torch 2.15.0, onnxscript 0.7.2, onnx-ir 1.1.0); the
# tables around them are computed from the files on every run.
REMARKS_DYNAMO = [
    "Opset 20 (ai.onnx only, no custom domains, no local functions), IR version 10. Graph input `x` "
    "(the forward argument's name), output named after the last fx node (`linear`, `linear_8`, `div`). "
    "All dims static (`dim_value`), batch included: no `dim_param` anywhere. `value_info` lists the "
    "shape of (nearly) every intermediate value.",
    "The exporter runs the onnxscript optimiser by default: BatchNorm is folded into the preceding Conv "
    "(rule `FuseBatchNormIntoConv`, recorded in node metadata `pkg.onnxscript.rewriter.rule_name`), so no "
    "`BatchNormalization` node is left in any family; the fused Conv keeps the conv's weight name "
    "(`layer1.0.conv1.weight`) but holds the fused values, and its bias gets a fresh name. The fused Conv "
    "node is attributed to the BatchNorm module: its name_scopes end in `...bn1`, not `...conv1`.",
    "Constants are folded: every Reshape / Slice / Squeeze / Pad / ReduceMean axes or shape operand is an "
    "int64 initializer (no `Shape` node, no `Constant` node in any family). `Reshape` from `view` has "
    "`allowzero=1`; Reshapes from decompositions (SDPA) have `allowzero=0`, those inserted by the optimiser "
    "no attribute (default 0): a 0 in a shape initializer never occurs, so both read the same here.",
    "`nn.Linear` on 2-D input becomes `Gemm(transB=1)` (the head); on 3-D/4-D input (ViT/Swin/ConvNeXt "
    "MLPs) `MatMul` with a pre-transposed weight initializer named `val_<n>` (the module's name is lost; "
    "see initializer_names) followed by `Add` of the bias.",
    "`F.gelu` is the `Gelu` op (opset 20) with `approximate=\"none\"`; LayerNorm and timm's LayerNorm2d are "
    "`LayerNormalization(axis=-1, stash_type=1)` (LayerNorm2d: Transpose to NHWC, LayerNormalization, "
    "Transpose back); SiLU is `Sigmoid` + `Mul`; hard-swish / hard-sigmoid are `HardSwish` / `HardSigmoid` "
    "(alpha 1/6, beta 0.5); `adaptive_avg_pool2d(1)` is `ReduceMean(axes int64 initializer [-1, -2], keepdims=1)` "
    "followed by `Reshape`, not GlobalAveragePool. ConvNeXt's head adds an `aten.as_strided` after the pool, "
    "exported as `Reshape` to [-1] then `Gather(axis 0)` with an int64 [1, C, 1, 1] index initializer "
    "(0..C-1): a Gather with a multi-dimensional index tensor whose backward is a scatter-add.",
    "Parameters folded into constants lose their state-dict name: ViT/DeiT's `cls_token` / `dist_token` are "
    "stored already expanded as initializers `expand` / `expand_1`, ConvNeXt's layer-scale `gamma` as "
    "`view` ([C] reshaped to [1, C, 1, 1]), DeiT's `/ 2` as `scalar_tensor_default`.",
    "`scaled_dot_product_attention` (timm's fused attention) is decomposed: q and k are each multiplied by "
    "sqrt(scale) (a float initializer), `MatMul`, `Softmax(axis=-1)`, `MatMul`; k's transpose is done "
    "with Reshape/Transpose/Reshape. `unbind` of qkv is three `Slice` + `Squeeze` (no Split). "
    "`torch.roll` (Swin's shifted windows) is `Slice` + `Slice` + `Concat` per axis; Swin's padding to a "
    "window multiple is a `Pad` with all-zero pads (mode constant) that stays in the graph.",
    "Small tensors (<= 256 bytes) are inline `raw_data`, larger ones in one external file "
    "`<name>.onnx.data` beside the model, located by a relative `location` = that file name, with "
    "`offset` and `length` (tensors back to back in initializer order, no alignment padding, so offsets "
    "are not multiples of 4 KB or 64); no checksum. Identical tensors can be shared by one "
    "initializer (seen with timm's default init, where all LayerNorm biases are 0; the seeded weights here "
    "avoid that).",
    "Node names: `node_<fx name>` for nodes translated from an aten op (`node_relu_3`, `node_layer_norm_2`), "
    "`node_<OpType>_<n>` for nodes created by decomposition or rewriting (`node_Conv_221`, `node_MatMul_11`), "
    "and bare `n0`, `n0_8` for nodes inlined from onnxscript functions (HardSwish in MobileNetV3). Value "
    "names are the fx node names (`relu_10`, `add_4`, `layer_norm_2`) or `val_<n>`. Node names are not a "
    "module path; the module path is in the metadata.",
    "Node metadata (`NodeProto.metadata_props`, IR 10): `pkg.torch.onnx.name_scopes` = a Python-literal list "
    "(single quotes) of the module paths from the root `''` down to the innermost module, then the fx node "
    "name (e.g. `['', 'layer4', 'layer4.0', 'layer4.0.act2', 'relu_10']`); `pkg.torch.onnx.class_hierarchy` "
    "= the classes of those modules, then the aten overload; `namespace` = both joined as "
    "`: cls/path: cls/.../fx_name: aten.op`; `pkg.torch.onnx.fx_node` = the fx node text; "
    "`pkg.torch.onnx.stack_trace` (removed from these fixtures). A module's output is the output of the "
    "last node (graph order) whose name_scopes contain its path. Graph inputs/outputs carry "
    "`pkg.torch.export.graph_signature.*` metadata. Model-level metadata_props are empty.",
    "Seen in the real EfficientNet-Lite0 export (export_efficientnet_lite0_onnx.py, not committed): the graph "
    "input is named `inputs` (that forward's argument); a module called twice (its `_swish` ReLU6, stem and "
    "head) has the same name_scopes `['', '_swish', 'hardtanh_<n>']` at every call, so the module path alone "
    "is ambiguous (the native `_head_act` is the last one, node `n4_33`); ModuleList children appear without "
    "the list's own level (`['', '_blocks.0', '_blocks.0._bn1', ...]`, no `_blocks`); ReLU6 is `Clip` with "
    "min/max as scalar initializers; ZeroPad2d + Conv is folded into one Conv with asymmetric pads "
    "(`[0, 0, 1, 1]`, `[1, 1, 2, 2]`), so no Pad is left.",
]
REMARKS_TORCHSCRIPT = [
    "Opset 20 (the default of torch 2.15's TorchScript exporter too), IR version 9. Graph input `input.1`, "
    "output a number (`141`). Dims static except where the exporter's shape inference gave up: Swin's "
    "output is `[\"Gemm1368_dim_0\", 10]` (a `dim_param`). No `value_info`.",
    "BatchNorm is folded into Conv as well (constant folding in eval mode): no `BatchNormalization` node; "
    "the folded weight and bias are new initializers named `onnx::Conv_<n>`, and the Conv node keeps the "
    "conv's scope (`/conv1/conv1.0/Conv`). When folded tensors are identical (timm's default init: zero "
    "biases) one initializer is shared through `Identity` nodes at the start of the graph; with the "
    "seeded weights here there are none.",
    "Weights of MatMul-form linears are pre-transposed initializers named `onnx::MatMul_<n>`; Gemm keeps "
    "`head.weight` / `fc.weight` with `transB=1`. `adaptive_avg_pool2d(1)` is `GlobalAveragePool` + "
    "`Flatten`, except where timm calls `x.mean(...)` (SE modules, Swin's NHWC pool): `ReduceMean` with "
    "axes from a `Constant`.",
    "Gelu is `Gelu` (approximate \"none\"), LayerNorm is `LayerNormalization(axis=-1)` (no stash_type), as "
    "with dynamo. All shape operands are `Constant` nodes (int64 tensors; `Slice` ends may be INT64_MAX = "
    "9223372036854775807), and token models keep live shape subgraphs: `Shape` -> `Slice`/`Gather` -> "
    "`Unsqueeze` -> `Concat` -> `Reshape` (patch embedding's flatten; Swin's window partition everywhere, "
    "with `Mod`, `Sub`, `Div`, `ConstantOfShape` and a computed `Pad`), the class-token `expand` as "
    "`ConstantOfShape`/`Equal`/`Where`/`Expand`, and SDPA's scale as `Shape` -> `Slice` -> `Cast` -> "
    "`Sqrt` -> `Div` -> `Sqrt` (twice) -> `Mul`. All of it folds to constants once the input size is known.",
    "`unbind` of qkv is `Split` with the split sizes as a second input (`[1, 1, 1]`, no num_outputs) "
    "followed by `Squeeze`; `torch.roll` is `Slice` + `Concat`.",
    "Everything is inline (`raw_data`): no external data in these files (this exporter switches to it "
    "only for models over 2 GB).",
    "Node names are `/`-separated scopes, one per module level, then the op type with a per-scope counter "
    "(`Relu`, `Add_1`, `Reshape_9`); ops of the root module's own forward are `/Add`, `/Concat`. Outputs are "
    "`<node name>_output_0`. Each scope is the module's name from its last non-numeric atom on "
    "(torch.onnx.utils._unqualified_variable_name): `layer4`, `layer4.0`, `act2`, `blocks.4.0`, `b1`. So the "
    "module path is the dotted join of the last atom of every scope: `/layer4/layer4.0/act2/Relu` -> "
    "`layer4.0.act2`, `/stages/stages.3/blocks/blocks.0/Add` -> `stages.3.blocks.0`, `/s4/b1/act3/Relu` -> "
    "`s4.b1.act3`, `/blocks/blocks.1/norm1/LayerNormalization` -> `blocks.1.norm1`. A module's output is "
    "the output of the last node (graph order) under its scope. No node metadata at all.",
    "Seen in the real EfficientNet-Lite0 export (not committed): a module called twice gets a numbered scope "
    "at its second call, `/_swish/Clip` then `/_swish_1/Clip` (the native `_head_act`): `_swish_1` is not a "
    "module name, so strip a `_<n>` suffix that does not name a child; ModuleList children are one scope "
    "`/_blocks.0/...`; ZeroPad2d stays a `Pad` whose pads are computed by a Constant -> ConstantOfShape -> "
    "Concat -> Reshape([-1, 2]) -> Slice(starts -1, ends -9223372036854775807, step -1) -> Transpose -> "
    "Reshape -> Cast chain (F.pad's pad-order reversal), the pad value a third input; "
    "ReLU6 is `Clip` with min/max from `Constant` nodes.",
]


def render_exports_md(manifest: dict) -> str:
    v = manifest["versions"]
    models = manifest["models"]
    fams = list(FAMILIES)
    L = []
    w = L.append
    w("# What torch's two ONNX exporters write (Fixtures/onnx)")
    w("")
    w(f"Generated by `scripts/reference/make_onnx_fixtures.py` from the files beside it (torch {v['torch']}, "
      f"onnxscript {v['onnxscript']}, onnx-ir {v['onnx_ir']}, onnx {v['onnx']}, timm {v['timm']}). The tables "
      "are computed from the files; the remarks were checked by hand on them. `dynamo` = "
      "`torch.onnx.export(model, (x,), path)` (the default), `torchscript` = the same with `dynamo=False`; "
      "both with every other option at its default. manifest.json holds the same facts per file in full.")
    w("")
    w("## Files")
    w("")
    w("| file | opset | IR | nodes | bytes (.onnx + .data) | initializers inline / external | input | output | max abs(ort - torch) |")
    w("|---|---|---|---|---|---|---|---|---|")
    for f in fams:
        for e in EXPORTERS:
            m = models.get(f"{f}.{e}.onnx")
            if m is None:
                continue
            if "error" in m:
                w(f"| {f}.{e}.onnx | export failed: {m['error']} | | | | | | | |")
                continue
            b = " + ".join(str(m["file_bytes"][x]) for x in m["files"])
            ini = m["initializers"]
            gi, go = m["graph_inputs"][0], m["graph_outputs"][0]
            w(f"| {m['file']} | {m['opset_import'].get('')} | {m['ir_version']} | {m['nodes']} | {b} | "
              f"{ini['inline']} / {ini['external']} | `{gi['name']}` {gi['dims']} | `{go['name']}` {go['dims']} | "
              f"{m['ort_max_abs_diff_logits']:.2g} |")
    w("")
    w("## Op types (schema version at opset 20; count of files using it)")
    w("")
    for e in EXPORTERS:
        agg: dict = {}
        for f in fams:
            m = models.get(f"{f}.{e}.onnx")
            if not m or "error" in m:
                continue
            for op, o in m["ops"].items():
                a = agg.setdefault(op, {"since": o["since_version"], "files": 0, "attrs": {}})
                a["files"] += 1
                for k, vals in o["attributes"].items():
                    s = a["attrs"].setdefault(k, [])
                    for x in vals:
                        if x not in s and len(s) < 4:
                            s.append(x)
        w(f"**{e}**: " + ", ".join(f"{op}-{a['since']} ({a['files']})" for op, a in sorted(agg.items())))
        w("")
        w("<details><summary>attributes seen (up to 4 values each)</summary>")
        w("")
        for op, a in sorted(agg.items()):
            if a["attrs"]:
                w(f"- {op}: " + "; ".join(f"`{k}` {json.dumps(x)}" for k, x in sorted(a["attrs"].items())))
        w("")
        w("</details>")
        w("")
    w("## Op types per family")
    w("")
    w("| family | dynamo | torchscript only (not in dynamo) | dynamo only |")
    w("|---|---|---|---|")
    for f in fams:
        d, t = models.get(f"{f}.dynamo.onnx", {}), models.get(f"{f}.torchscript.onnx", {})
        do, to = set(d.get("ops", {})), set(t.get("ops", {}))
        w(f"| {f} | {', '.join(sorted(do))} | {', '.join(sorted(to - do))} | {', '.join(sorted(do - to))} |")
    w("")
    w("## Operand forms (where shapes, axes, starts, pads come from)")
    w("")
    w("Per op: the source of inputs 2.. (`initializer`, `Constant` node, `computed (<producer op>)`), with counts.")
    w("")
    w("| file | forms | Shape nodes | Constant nodes | initializer types |")
    w("|---|---|---|---|---|")
    for f in fams:
        for e in EXPORTERS:
            m = models.get(f"{f}.{e}.onnx")
            if not m or "error" in m:
                continue
            forms = "; ".join(f"{op}: " + ", ".join(f"[{k}] x{n}" for k, n in fm.items()) for op, fm in m["input_forms"].items())
            consts = ", ".join(f"{k} x{n}" for k, n in m["constant_nodes"].items()) or "-"
            types = ", ".join(f"{k} x{n}" for k, n in m["initializers"]["types"].items())
            w(f"| {m['file']} | {forms or '-'} | {m['shape_nodes']} | {consts} | {types} |")
    w("")
    w("## Initializer names")
    w("")
    w("| file | named by state-dict key, same values | state-dict key, other values (folded) | other names (examples) |")
    w("|---|---|---|---|")
    for f in fams:
        for e in EXPORTERS:
            m = models.get(f"{f}.{e}.onnx")
            if not m or "error" in m:
                continue
            n = m["initializer_names"]
            w(f"| {m['file']} | {n['state_dict_key_same_values']} | {', '.join(n['state_dict_key_other_values']) or '-'} | "
              f"{n['other_names']} ({'; '.join(n['other_name_examples'])}) |")
    w("")
    w("## Where each named layer is (ONNX values equal to the torch module's output, by onnxruntime)")
    w("")
    w("| family | layer | dynamo value (node, op, name_scopes) | torchscript value (node, op) |")
    w("|---|---|---|---|")
    for f in fams:
        for layer in FAMILIES[f]["layers"]:
            cells = []
            for e in EXPORTERS:
                m = models.get(f"{f}.{e}.onnx", {})
                hits = m.get("layers", {}).get(layer, [])
                cells.append("<br>".join(
                    f"`{h['value']}` ({h['node']}, {h['op']}" + (f", {h['name_scopes']}" if "name_scopes" in h else "") + ")"
                    for h in hits) or "none")
            w(f"| {f} | {layer} | {cells[0]} | {cells[1]} |")
    w("")
    for e, remarks in (("dynamo", REMARKS_DYNAMO), ("torchscript", REMARKS_TORCHSCRIPT)):
        w(f"## {e}: remarks")
        w("")
        for r in remarks:
            w(f"- {r}")
        w("")
        w(f"Example nodes ({e}):")
        w("")
        shown = 0
        for f in ("resnet", "mobilenetv3", "vit", "swin"):
            m = models.get(f"{f}.{e}.onnx", {})
            for ex in m.get("node_examples", [])[:2]:
                if shown >= 6:
                    break
                shown += 1
                extra = "".join(f", {k.rsplit('.', 1)[-1]} {json.dumps(ex[k])}" for k in ("name_scopes", "class_hierarchy",
                                                                                           "pkg.onnxscript.rewriter.rule_name") if k in ex)
                w(f"- {f}: `{ex['node']}` {ex['op']} {ex['inputs']} -> {ex['outputs']}{extra}")
        w("")
    failures = [m for m in models.values() if "error" in m]
    w("## Failures")
    w("")
    w("\n".join(f"- {m['file']}: {m['error']}" for m in failures) if failures else "None: every family exported with both exporters, and onnxruntime reproduces the torch logits.")
    w("")
    w("## Determinism")
    w("")
    w("Both exporters write the same bytes on every run (checked by running the script twice: sha256 in "
      "manifest.json `models.*.sha256`). Names such as `val_52` or `onnx::Conv_125` depend only on the graph.")
    return "\n".join(L) + "\n"


def family_file(family: str) -> str:
    return f"{family}.safetensors"


def main() -> None:
    torch.manual_seed(0)
    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    only = set(sys.argv[1:])
    manifest_path = OUT / "manifest.json"
    old = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    models, cases, families, problems = dict(old.get("models", {})), [], dict(old.get("families", {})), []
    keep_cases = [c for c in old.get("cases", []) if only and c["family"] not in only]
    written = set()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for family, spec in FAMILIES.items():
            if only and family not in only:
                for f in [family_file(family)] + [m for m in models if models[m]["family"] == family]:
                    written.add(f)
                    written.update(models.get(f, {}).get("files", []))
                continue
            print(f"== {family}", flush=True)
            model = build_model(family)
            x = torch.from_numpy(seeded_input(spec["input"], SEED))
            layers = spec["layers"]
            state = {k: v.numpy() for k, v in model.state_dict().items() if v.is_floating_point()}
            logits, acts, grads = capture_activations(model, list(layers), x)
            model64 = copy.deepcopy(model).double()
            x64 = x.double()
            top1 = int(np.argmax(logits[0]))
            tensors = {"input": x.numpy(), "logits": logits}
            for layer in layers:
                tensors[f"activation.{layer}"] = acts[layer]
                tensors[f"gradient.{layer}"] = grads[layer]
            layer_info, cam_info = {}, {}
            for layer, layout in layers.items():
                rt = reshape_transform_for(layout)
                shaped = rt(torch.from_numpy(acts[layer])).shape if rt else acts[layer].shape
                layer_info[layer] = dict(layout, activation_shape=list(acts[layer].shape), map_input_shape=list(shaped),
                                         default=layer == next(iter(layers)))
                for method in METHODS:
                    cam, low, info = run_cam(model, method, layer, layout, x)
                    cam64, low64, info64 = run_cam(model64, method, layer, layout, x64)
                    if method != "eigencam" or [f["projection_maxabs_positive"] for f in info["svd"][0]] == \
                            [f["projection_maxabs_positive"] for f in info64["svd"][0]]:
                        info["float64_drift"] = {"cam": drift(cam, cam64), "lowres": drift(low, low64)}
                    else:
                        info["float64_drift"] = "SVD sign differs in float64"
                    tensors[f"cam.{method}.{layer}"] = cam
                    tensors[f"lowres.{method}.{layer}"] = low
                    cam_info[(layer, method)] = info
                    print(f"   {layer:16} {method:10} lowres {tuple(low.shape)} raw_max {info['raw_max']:.3g} "
                          f"drift {info['float64_drift']}", flush=True)

            # Exports.
            for exporter in EXPORTERS:
                name = f"{family}.{exporter}.onnx"
                path = tmp / name
                entry = {"family": family, "exporter": exporter, "file": name}
                try:
                    export(model, x, exporter, path)
                except Exception as e:  # noqa: BLE001  (recorded, not hidden)
                    entry["error"] = f"{type(e).__name__}: {str(e).splitlines()[0][:400]}"
                    problems.append(f"{name}: export failed: {entry['error']}")
                    models[name] = entry
                    continue
                files = sorted(p.name for p in tmp.iterdir() if p.name.startswith(name))
                entry["files"] = files
                entry["file_bytes"] = {f: (tmp / f).stat().st_size for f in files}
                entry["sha256"] = {f: hashlib.sha256((tmp / f).read_bytes()).hexdigest()[:16] for f in files}
                entry.update(analyse(path, state))
                sess = ort_session(str(path))
                ort_logits = sess.run(None, {sess.get_inputs()[0].name: x.numpy()})[0]
                tensors[f"ort_logits.{exporter}"] = ort_logits
                entry["ort_max_abs_diff_logits"] = float(f"{float(np.abs(ort_logits - logits).max()):.3g}")
                entry["ort_top1"] = int(np.argmax(ort_logits[0]))
                values, producer = ort_all_values(path, x.numpy())
                order = [o for n in onnx.load(str(path), load_external_data=False).graph.node for o in n.output]
                entry["layers"] = match_layer_values(values, producer, order, acts)
                for layer, hits in entry["layers"].items():
                    if not hits:
                        problems.append(f"{name}: no ONNX value equals {layer}")
                if entry["ort_max_abs_diff_logits"] > 1e-4:
                    problems.append(f"{name}: ort vs torch logits {entry['ort_max_abs_diff_logits']}")
                models[name] = entry
                for f in files:
                    write_if_changed(OUT / f, (tmp / f).read_bytes())
                    written.add(f)
                print(f"   {exporter:11} {sum(entry['file_bytes'].values()):7d} B  ort diff {entry['ort_max_abs_diff_logits']:.2g}  "
                      f"ops {','.join(entry['ops'])}", flush=True)

                for layer, layout in layers.items():
                    for method in METHODS:
                        info = cam_info[(layer, method)]
                        notes = []
                        if info["raw_max"] == 0.0:
                            notes.append("all-zero map expected: relu(get_cam_image) is 0 everywhere" +
                                         (" (class-token pooling, notes.class_token_zero_gradients)"
                                          if layout["kind"] == "tokens" and method != "eigencam" else ""))
                        elif info["raw_max"] < 1e-5:
                            notes.append("raw_max < 1e-5: the 1e-7 of scale_cam_image visibly shapes the map "
                                         "(max m/(m+1e-7)); compute it exactly")
                        if method == "eigencam":
                            notes.append("SVD sign: see svd and notes.eigencam")
                        d64 = info.get("float64_drift")
                        if isinstance(d64, dict) and max(d64.values()) > 1e-4:
                            notes.append(f"rounding-sensitive: float64 differs by {max(d64.values())}; the map is "
                                         "nearly cancelling (see float64_drift), hold it to that, not 1e-3")
                        cases.append(dict(
                            name=f"{family}.{exporter}.{layer}.{method}", family=family, exporter=exporter,
                            onnx_files=files, opset=entry["opset_import"].get(""), input_shape=list(spec["input"]),
                            layer=layer, default_layer=layer_info[layer]["default"],
                            layout={k: layer_info[layer][k] for k in ("kind", "prefix_tokens", "grid") if k in layer_info[layer]},
                            activation_shape=layer_info[layer]["activation_shape"], method=method,
                            file=family_file(family), logits_key="logits", input_key="input",
                            cam_key=f"cam.{method}.{layer}", lowres_key=f"lowres.{method}.{layer}",
                            target={"kind": "top1", "class": top1},
                            tolerance={"logits_rel": 1e-4, "maps_abs": 1e-3}, notes=notes, **info))

            tensors = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}
            data = st_save(tensors, metadata={"fixture": f"{family} (timm {version('timm')}, pytorch-grad-cam 1.5.7, seeded weights v1)"})
            write_if_changed(OUT / family_file(family), data)
            written.add(family_file(family))
            families[family] = dict(timm_class=spec["timm"], config=spec["config"], input_shape=list(spec["input"]),
                                    num_classes=NUM_CLASSES, top1=top1, file=family_file(family),
                                    parameters=int(sum(p.numel() for p in model.parameters())),
                                    layers=layer_info, tensors={k: list(v.shape) for k, v in sorted(tensors.items())},
                                    sha256=hashlib.sha256(data).hexdigest()[:16])

    cases = sorted(keep_cases + cases, key=lambda c: c["name"])
    manifest = {
        "format": "camkit-onnx-v1",
        "versions": {"torch": torch.__version__.split("+")[0], "timm": version("timm"), "onnx": onnx.__version__,
                     "onnxruntime": ort.__version__, "onnxscript": version("onnxscript"), "onnx_ir": version("onnx-ir"),
                     "grad_cam": version("grad-cam"), "numpy": np.__version__},
        "weights": "seeded weights v1 (Fixtures/README.md), seed 0, by state-dict key (BatchNorm running stats included); input = seeded 'input' (value u)",
        "families": families,
        "models": {k: v for k, v in models.items() if k in written or "error" in v},
        "cases": cases,
        "notes": NOTES,
    }
    text = dump_manifest(manifest)
    write_if_changed(manifest_path, text.encode())
    written.add("manifest.json")

    md = render_exports_md(manifest)
    write_if_changed(OUT / "EXPORTS.md", md.encode())
    written.add("EXPORTS.md")

    stray = sorted(p.name for p in OUT.iterdir() if p.name not in written)
    total = sum((OUT / n).stat().st_size for n in written if (OUT / n).exists())
    print(f"total Fixtures/onnx: {total} bytes ({len(cases)} cases, {len(manifest['models'])} model files)")
    if stray:
        print("stray files (not written by this script):", stray)
    for p in problems:
        print("PROBLEM:", p)
    if not only:
        print()
        print(md)


if __name__ == "__main__":
    main()
