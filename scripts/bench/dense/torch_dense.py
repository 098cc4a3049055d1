"""PyTorch side of the dense-kernel timing: same ops, shapes and timing rule as main.swift."""
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(2)


def layer_norm_2d(x, w, b):
    # timm LayerNorm2d
    return F.layer_norm(x.permute(0, 2, 3, 1), w.shape, w, b, 1e-6).permute(0, 3, 1, 2)


def grn(x, w, b):
    # timm GlobalResponseNorm, channels_last=False
    gx = torch.norm(x, p=2, dim=(2, 3), keepdim=True)
    nx = gx / (gx.mean(dim=1, keepdim=True) + 1e-6)
    return x + torch.addcmul(b.view(1, -1, 1, 1), w.view(1, -1, 1, 1), x * nx)


def best_ms(fn, runs=30):
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return min(times)


with torch.inference_mode():
    for shape in [(1, 512, 56, 56), (1, 2048, 14, 14)]:
        c = shape[1]
        x = torch.rand(shape) * 4 - 2
        w, b = torch.rand(c) * 4 - 2, torch.rand(c) * 4 - 2
        for name, fn in [("gelu", lambda: F.gelu(x)),
                         ("layerNorm2d", lambda: layer_norm_2d(x, w, b)),
                         ("GRN", lambda: grn(x, w, b))]:
            print(f"torch {name:<12} {str(list(shape)):<16} {best_ms(fn):8.3f} ms")
