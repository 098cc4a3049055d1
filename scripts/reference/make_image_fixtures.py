"""Write Fixtures/images/*: small drawn test pictures and what the Python reference makes of them.

Run from the repo root:  python scripts/reference/make_image_fixtures.py
Pinned (scripts/reference/requirements.txt): pillow==13.0.0, torchvision==0.29.2, timm==1.0.31,
grad-cam==1.5.7, numpy==2.4.6, opencv-python-headless (cv2 5.0.0, for 16-bit PNGs, the JET
table and the map resize), safetensors==0.8.0. Idempotent: same inputs, same bytes.

Every picture is drawn here (gradients and shapes, no text, no photographs). Outputs:
- decode/*.png|jpg: PNG 8-bit RGB, 16-bit RGB, palette, palette with tRNS, gray, 16-bit
  gray, gray+alpha, RGBA, 1-bit; JPEG baseline 4:2:0, 4:4:4, progressive, grayscale, CMYK
  (Adobe-inverted, as Pillow writes it), and EXIF orientations 1-8.
  decode/*.png.rgb, *.jpg.rgb: the expected 8-bit RGB (raw, row-major) as Pillow decodes it, after
  ImageOps.exif_transpose, alpha composited over white with Image.alpha_composite;
  16-bit gray is taken as the high byte (Pillow would clip I;16 to 255 instead).
- photo.png (80×60) and preprocessing.safetensors: torchvision/timm eval transforms of it
  (NCHW float32, batch 1), one key per case of manifest.json "preprocessing".
- jet.rgb: cv2.applyColorMap(0...255, COLORMAP_JET) as RGB.
- overlay_*.rgb and maps in overlay.safetensors: pytorch_grad_cam's show_cam_on_image.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import cv2
import numpy as np
import timm.data
import torch
from PIL import Image, ImageDraw, ImageOps
from pytorch_grad_cam.utils.image import show_cam_on_image
from safetensors.torch import save_file
from torchvision import transforms as T
from torchvision.transforms import InterpolationMode

REPO = Path(__file__).resolve().parent.parent.parent
OUT = REPO / "Fixtures" / "images"
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def scene(w: int, h: int) -> Image.Image:
    """Gradients, a disc, a rectangle, diagonal lines and a checkerboard patch."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255 * x / max(1, w - 1)
    g = 255 * y / max(1, h - 1)
    b = 128 + 100 * np.sin(x / w * 2 * math.pi) * np.cos(y / h * math.pi)
    arr = np.clip(np.stack([r, g, b], -1).round(), 0, 255).astype(np.uint8)
    img = Image.fromarray(arr, "RGB")
    d = ImageDraw.Draw(img)
    d.ellipse([w * 0.15, h * 0.2, w * 0.5, h * 0.75], fill=(250, 240, 20), outline=(10, 10, 10))
    d.rectangle([w * 0.6, h * 0.1, w * 0.9, h * 0.45], fill=(30, 60, 200))
    for k in range(0, w, 7):
        d.line([k, h - 1, k + h // 2, h // 2], fill=(255, 255, 255), width=1)
    cs = max(1, w // 16)
    for i in range(4):
        for j in range(4):
            if (i + j) % 2 == 0:
                x0, y0 = int(w * 0.62) + i * cs, int(h * 0.6) + j * cs
                d.rectangle([x0, y0, x0 + cs - 1, y0 + cs - 1], fill=(0, 0, 0))
    return img


def alpha_ramp(w: int, h: int) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    a = (255 * x / (w - 1)).astype(np.uint8)
    a[: h // 4] = 0
    a[-(h // 4):] = 255
    return a


def expected_rgb(img: Image.Image) -> Image.Image:
    img = ImageOps.exif_transpose(img)
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def write_rgb(path: Path, img: Image.Image) -> dict:
    assert img.mode == "RGB"
    path.write_bytes(np.asarray(img, dtype=np.uint8).tobytes())
    return {"width": img.width, "height": img.height}


def decode_fixtures(manifest: dict) -> None:
    d = OUT / "decode"
    d.mkdir(parents=True, exist_ok=True)
    base = scene(48, 32)
    arr = np.asarray(base)
    cases = []

    def png(name, img, **kw):
        img.save(d / f"{name}.png", optimize=False, **kw)

    png("rgb8", base)
    png("palette", base.quantize(colors=16, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE))
    pal = base.quantize(colors=16, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    png("palette_trns", pal, transparency=int(np.asarray(pal)[0, 0]))
    png("gray", base.convert("L"))
    la = Image.merge("LA", [base.convert("L"), Image.fromarray(alpha_ramp(48, 32), "L")])
    png("gray_alpha", la)
    rgba = base.copy()
    rgba.putalpha(Image.fromarray(alpha_ramp(48, 32), "L"))
    png("rgba", rgba)
    png("bilevel", base.convert("L").point(lambda v: 255 if v > 128 else 0).convert("1"))
    # 16-bit: distinct low bytes so truncation vs rounding shows.
    a16 = arr.astype(np.uint16) * 257 + (np.arange(arr.size, dtype=np.uint16).reshape(arr.shape) % 251)
    cv2.imwrite(str(d / "rgb16.png"), a16[:, :, ::-1].copy())
    g16 = a16[:, :, 1].copy()
    cv2.imwrite(str(d / "gray16.png"), g16)

    for name in ["rgb8", "palette", "palette_trns", "gray", "gray_alpha", "rgba", "bilevel", "rgb16"]:
        with Image.open(d / f"{name}.png") as im:
            im.load()
            cases.append({"file": f"decode/{name}.png", "expected": f"decode/{name}.png.rgb",
                          "mode": im.mode, **write_rgb(d / f"{name}.png.rgb", expected_rgb(im))})
    with Image.open(d / "gray16.png") as im:
        assert im.mode in ("I;16", "I;16B", "I"), im.mode
        hi = (np.asarray(im).astype(np.uint32) >> 8).astype(np.uint8)
        cases.append({"file": "decode/gray16.png", "expected": "decode/gray16.png.rgb", "mode": im.mode,
                      **write_rgb(d / "gray16.png.rgb", Image.fromarray(hi, "L").convert("RGB"))})

    base.save(d / "baseline.jpg", quality=90)
    base.save(d / "q444.jpg", quality=90, subsampling=0)
    base.save(d / "progressive.jpg", quality=85, progressive=True)
    base.convert("L").save(d / "gray.jpg", quality=90)
    # CMYK with real black: K from the darkness, C/M/Y the rest.
    f = arr.astype(np.float64) / 255
    k = 1 - f.max(-1)
    cmy = (1 - f - k[..., None]) / np.maximum(1 - k[..., None], 1e-6)
    cmyk = np.concatenate([cmy, k[..., None]], -1)
    Image.fromarray((cmyk * 255).round().astype(np.uint8), "CMYK").save(d / "cmyk.jpg", quality=90)
    small = scene(24, 16)
    for o in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = o
        small.save(d / f"orient{o}.jpg", quality=90, exif=exif.tobytes())
    for name in ["baseline", "q444", "progressive", "gray", "cmyk"] + [f"orient{o}" for o in range(1, 9)]:
        with Image.open(d / f"{name}.jpg") as im:
            im.load()
            cases.append({"file": f"decode/{name}.jpg", "expected": f"decode/{name}.jpg.rgb", "mode": im.mode,
                          **write_rgb(d / f"{name}.jpg.rgb", expected_rgb(im))})
    manifest["decode"] = cases


def preprocessing_fixtures(manifest: dict) -> None:
    photo = scene(80, 60)
    photo.save(OUT / "photo.png", optimize=False)
    photo = Image.open(OUT / "photo.png").convert("RGB")
    bil, bic = InterpolationMode.BILINEAR, InterpolationMode.BICUBIC
    half = (0.5, 0.5, 0.5)
    cases = [
        # key, resize shorter side (None: straight to crop size), crop (w, h), interpolation, mean, std
        ("shorter37_crop32_bilinear", 37, (32, 32), bil, half, half),
        ("shorter37_crop32_bicubic", 37, (32, 32), bic, half, half),
        ("shorter24_crop28_bilinear_padded", 24, (28, 28), bil, IMAGENET_MEAN, IMAGENET_STD),
        ("direct_44x28_bilinear", None, (44, 28), bil, IMAGENET_MEAN, IMAGENET_STD),
        ("direct_90x62_bicubic_upscale", None, (90, 62), bic, IMAGENET_MEAN, IMAGENET_STD),
        ("direct_90x62_bilinear_upscale", None, (90, 62), bil, IMAGENET_MEAN, IMAGENET_STD),
    ]
    tensors, meta = {}, []
    for key, shorter, (cw, ch), interp, mean, std in cases:
        tfs = [T.Resize(shorter if shorter is not None else (ch, cw), interpolation=interp)]
        if shorter is not None:
            tfs.append(T.CenterCrop((ch, cw)))
        tfs += [T.ToTensor(), T.Normalize(mean, std)]
        tensors[key] = T.Compose(tfs)(photo).unsqueeze(0).contiguous()
        meta.append({"key": key, "resizeShorterSide": shorter, "cropWidth": cw, "cropHeight": ch,
                     "interpolation": interp.value, "mean": list(mean), "std": list(std)})
    # timm's own eval transform (crop_pct 0.875: shorter side floor(32 / 0.875) = 36, then crop).
    for interp in ["bilinear", "bicubic"]:
        tf = timm.data.create_transform(input_size=(3, 32, 32), is_training=False, crop_pct=0.875,
                                        interpolation=interp, mean=IMAGENET_MEAN, std=IMAGENET_STD)
        key = f"timm_32_crop_pct_0.875_{interp}"
        tensors[key] = tf(photo).unsqueeze(0).contiguous()
        meta.append({"key": key, "resizeShorterSide": 36, "cropWidth": 32, "cropHeight": 32,
                     "interpolation": interp, "mean": list(IMAGENET_MEAN), "std": list(IMAGENET_STD),
                     "timm": str(tf).replace("\n", " ")})
    save_file(tensors, str(OUT / "preprocessing.safetensors"), metadata={"source": "make_image_fixtures.py"})
    manifest["preprocessing"] = {"photo": "photo.png", "cases": meta}


def pawmatch_fixture(manifest: dict) -> None:
    """The seed's app transform, Resize((224, 224)) (bilinear, aspect not kept, no crop) with
    ImageNet statistics, on a photo larger than 224 on both sides and not square."""
    photo = scene(300, 250)
    photo.save(OUT / "photo_pawmatch.png", optimize=False)
    photo = Image.open(OUT / "photo_pawmatch.png").convert("RGB")
    tf = T.Compose([T.Resize((224, 224)), T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
    save_file({"pawmatch": tf(photo).unsqueeze(0).contiguous()}, str(OUT / "pawmatch.safetensors"),
              metadata={"source": "make_image_fixtures.py", "transform": str(tf).replace("\n", " ")})
    manifest["pawmatch"] = {"photo": "photo_pawmatch.png", "tensor": "pawmatch.safetensors"}


def crop_box(w: int, h: int, shorter: int, cw: int, ch: int) -> tuple[int, int, int, int]:
    """The crop of Resize(shorter) + CenterCrop((ch, cw)) in original pixels (x, y, w, h):
    resized-image edges scaled by w / rw and h / rh, rounded half to even."""
    if w <= h:
        rw, rh = shorter, int(shorter * h / w)
    else:
        rw, rh = int(shorter * w / h), shorter
    left = -((cw - rw) // 2) if cw > rw else int(round((rw - cw) / 2.0))
    top = -((ch - rh) // 2) if ch > rh else int(round((rh - ch) / 2.0))
    x0 = max(0, min(w, round(left * w / rw)))
    x1 = max(0, min(w, round((left + cw) * w / rw)))
    y0 = max(0, min(h, round(top * h / rh)))
    y1 = max(0, min(h, round((top + ch) * h / rh)))
    return x0, y0, x1 - x0, y1 - y0


def overlay_fixtures(manifest: dict) -> None:
    jet = cv2.applyColorMap(np.arange(256, dtype=np.uint8).reshape(1, 256), cv2.COLORMAP_JET)[0][:, ::-1]
    (OUT / "jet.rgb").write_bytes(np.ascontiguousarray(jet).tobytes())
    photo = np.asarray(Image.open(OUT / "photo.png").convert("RGB"))
    h, w = photo.shape[:2]
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    blob = np.exp(-(((x - 0.3 * w) / (0.2 * w)) ** 2 + ((y - 0.4 * h) / (0.25 * h)) ** 2))
    mask = (0.8 * blob + 0.2 * x / (w - 1)).astype(np.float32)
    mask = (mask - mask.min()) / (mask.max() - mask.min())
    mask = mask.astype(np.float32)
    cases, maps = [], {"full_mask": torch.from_numpy(mask.copy())}
    for weight in [0.5, 0.6]:
        out = show_cam_on_image(np.float32(photo) / 255, mask, use_rgb=True, image_weight=weight)
        name = f"overlay_full_mask_iw{weight}.rgb"
        (OUT / name).write_bytes(np.ascontiguousarray(out).tobytes())
        cases.append({"expected": name, "map": "full_mask", "mapWidth": w, "mapHeight": h,
                      "cropBox": [0, 0, w, h], "imageWeight": weight})
    # A 7×7 map (a CAM before upsampling) over the crop of Resize(37) + CenterCrop(32).
    small = np.random.default_rng(4).random((7, 7)).astype(np.float32)
    small = (small - small.min()) / (small.max() - small.min())
    bx, by, bw, bh = crop_box(w, h, 37, 32, 32)
    up = cv2.resize(small, (bw, bh), interpolation=cv2.INTER_LINEAR)
    # Outside the crop box the photo is dimmed to 0.4 of its brightness (truncated), as CAMKit draws it.
    out = (np.float32(photo) * np.float32(0.4)).astype(np.uint8)
    out[by:by + bh, bx:bx + bw] = show_cam_on_image(np.float32(photo[by:by + bh, bx:bx + bw]) / 255, up,
                                                    use_rgb=True)
    (OUT / "overlay_crop_7x7.rgb").write_bytes(np.ascontiguousarray(out).tobytes())
    maps["map_7x7"] = torch.from_numpy(small.copy())
    cases.append({"expected": "overlay_crop_7x7.rgb", "map": "map_7x7", "mapWidth": 7, "mapHeight": 7,
                  "cropBox": [bx, by, bw, bh], "imageWeight": 0.5,
                  "recipe": {"resizeShorterSide": 37, "cropWidth": 32, "cropHeight": 32}})
    save_file(maps, str(OUT / "overlay.safetensors"), metadata={"source": "make_image_fixtures.py"})
    manifest["overlay"] = {"photo": "photo.png", "jet": "jet.rgb", "cases": cases}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    manifest: dict = {}
    decode_fixtures(manifest)
    preprocessing_fixtures(manifest)
    pawmatch_fixture(manifest)
    overlay_fixtures(manifest)
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
