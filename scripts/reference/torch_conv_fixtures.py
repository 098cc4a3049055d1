"""Prints the PyTorch outputs pasted into ConvolutionTests/PoolingTests as expected values.

Inputs are rebuilt with the same generator as `randomTensor` in the Swift tests.
Run from the repo root (after `make venv`): python scripts/reference/torch_conv_fixtures.py
"""
import numpy as np
import torch
import torch.nn.functional as F


def random_tensor(shape, seed):
    mask = (1 << 64) - 1
    state = (seed + 0x9E3779B97F4A7C15) & mask
    values = []
    for _ in range(int(np.prod(shape))):
        state = (state * 6364136223846793005 + 1442695040888963407) & mask
        values.append((state >> 40) / float(1 << 24) * 2 - 1)
    return torch.tensor(np.array(values, dtype=np.float32).reshape(shape))


def show(name, t):
    print(f"// {name}: shape {list(t.shape)}")
    print("[" + ", ".join(f"{v:.7g}" for v in t.flatten().tolist()) + "]")


# Grouped, strided, dilated, asymmetric padding (top 1, bottom 2, left 0, right 1).
x = random_tensor([1, 4, 7, 6], 1)
w = random_tensor([6, 2, 3, 2], 2)
b = random_tensor([6], 3)
show("grouped", F.conv2d(F.pad(x, (0, 1, 1, 2)), w, b, stride=(2, 1), dilation=(1, 2), groups=2))

# Depthwise 5x5 stride 2 with TF "same" padding (top 1, bottom 2, left 1, right 2).
x = random_tensor([1, 3, 9, 8], 4)
w = random_tensor([3, 1, 5, 5], 5)
b = random_tensor([3], 6)
show("depthwise", F.conv2d(F.pad(x, (1, 2, 1, 2)), w, b, stride=2, groups=3))

# Adaptive average pooling with overlapping, uneven bins.
x = random_tensor([1, 2, 7, 5], 7)
show("adaptive", F.adaptive_avg_pool2d(x, (3, 2)))
