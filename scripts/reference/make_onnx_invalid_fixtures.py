"""Small ONNX models that the importer must refuse, each for one reason (Fixtures/onnx-invalid/).

The file reader's own refusals (truncated or garbled protobuf, external data outside the folder,
cycles, undefined inputs) are built by ONNXReaderTests itself; these are models that parse but
cannot run: an operator we do not support, an attribute value we do not, shapes that do not fit,
an output that is not (N, classes), an opset older than 13, and a valid tiny classifier for the
labels-count check. Deterministic: fixed values, no randomness. Run from the repo root:

    python scripts/reference/make_onnx_invalid_fixtures.py
"""
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = Path(__file__).resolve().parents[2] / "Fixtures" / "onnx-invalid"


def weights(name, shape):
    values = (np.arange(np.prod(shape), dtype=np.float32) % 7 - 3) / 10
    return numpy_helper.from_array(values.reshape(shape), name)


def classifier(body, initializers, opset=20, output_shape=(1, 4), extra_outputs=()):
    """A graph from `x` (1, 3, 8, 8) through `body` to `logits`."""
    graph = helper.make_graph(
        body, "classifier",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, list(output_shape)), *extra_outputs],
        initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="camkit-fixtures")
    model.ir_version = 8
    return model


def head():
    """Conv → Relu → GlobalAveragePool → Flatten → Gemm: a valid 4-class classifier."""
    return ([
        helper.make_node("Conv", ["x", "conv.weight", "conv.bias"], ["c"], name="/conv/Conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="/act/Relu"),
        helper.make_node("GlobalAveragePool", ["r"], ["p"], name="/pool/GlobalAveragePool"),
        helper.make_node("Flatten", ["p"], ["f"], name="/flatten/Flatten"),
        helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"], name="/fc/Gemm", transB=1),
    ], [weights("conv.weight", (6, 3, 3, 3)), weights("conv.bias", (6,)), weights("fc.weight", (4, 6)), weights("fc.bias", (4,))])


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    body, inits = head()
    cases = {"valid_tiny_classifier": classifier(body, inits)}

    resize = [helper.make_node("Resize", ["x", "", "scales"], ["x2"], name="/up/Resize", mode="nearest")] + body
    resize[1] = helper.make_node("Conv", ["x2", "conv.weight", "conv.bias"], ["c"], name="/conv/Conv", pads=[1, 1, 1, 1])
    cases["unsupported_operator"] = classifier(resize, inits + [numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")])

    pad = [helper.make_node("Pad", ["x", "pads"], ["xp"], name="/pad/Pad", mode="wrap")]
    padded = pad + [helper.make_node("Conv", ["xp", "conv.weight", "conv.bias"], ["c"], name="/conv/Conv")] + body[1:]
    cases["unsupported_attribute"] = classifier(padded, inits + [numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads")])

    cases["conv_channels_mismatch"] = classifier(body, [weights("conv.weight", (6, 4, 3, 3))] + inits[1:])

    no_pool = [body[0], body[1]]
    no_pool[1] = helper.make_node("Relu", ["c"], ["logits"], name="/act/Relu")
    cases["output_not_classes"] = classifier(no_pool, inits[:2], output_shape=(1, 6, 8, 8))

    cases["opset_too_old"] = classifier(body, inits, opset=11)

    huge = [helper.make_node("Expand", ["x", "big"], ["xe"], name="/grow/Expand")] + body
    huge[1] = helper.make_node("Conv", ["xe", "conv.weight", "conv.bias"], ["c"], name="/conv/Conv", pads=[1, 1, 1, 1])
    cases["huge_expand"] = classifier(huge, inits + [numpy_helper.from_array(np.array([1 << 22, 3, 8, 8], np.int64), "big")])

    for name, model in cases.items():
        onnx.save(model, OUT / f"{name}.onnx")
    (OUT / "labels3.txt").write_text("a\nb\nc\n")
    (OUT / "labels4.txt").write_text("a\nb\nc\nd\n")


if __name__ == "__main__":
    main()
