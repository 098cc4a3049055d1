"""Writes N distinct JPEG photos made from one committed fixture, for gallery measurements.

Each photo is the fixture cropped, flipped, brightened and tinted differently (seeded by its
number), scaled to a camera-like size, with grain so it compresses like a real photo and no
two files are alike. Nothing is taken from ../shared: the measurement must not depend on it.

    python synthetic_photos.py SOURCE.png OUT_DIR COUNT [--size 500x375]
"""
import argparse
import random
import sys
from pathlib import Path

from PIL import Image, ImageEnhance, ImageOps


def photo(source: Image.Image, number: int, width: int, height: int) -> Image.Image:
    rng = random.Random(number)
    w, h = source.size
    # Keep at least 70 % of each side so the subject stays in frame.
    cw, ch = int(w * rng.uniform(0.7, 1.0)), int(h * rng.uniform(0.7, 1.0))
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    image = source.crop((x, y, x + cw, y + ch))
    if rng.random() < 0.5:
        image = ImageOps.mirror(image)
    image = image.resize((width, height), Image.Resampling.BICUBIC)
    image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.7, 1.3))
    tint = Image.new("RGB", image.size, tuple(rng.randint(0, 255) for _ in range(3)))
    image = Image.blend(image, tint, rng.uniform(0.0, 0.15))
    grain = Image.effect_noise(image.size, rng.uniform(10, 30)).convert("RGB")
    return Image.blend(image, grain, 0.12)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("count", type=int)
    parser.add_argument("--size", default="500x375", help="WIDTHxHEIGHT of every photo")
    args = parser.parse_args()
    try:
        width, height = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        print(f"synthetic_photos: --size {args.size!r} is not WIDTHxHEIGHT", file=sys.stderr)
        return 2
    if args.count < 1 or width < 1 or height < 1:
        print(f"synthetic_photos: count {args.count} and size {args.size} must be positive", file=sys.stderr)
        return 2
    try:
        source = Image.open(args.source).convert("RGB")
    except OSError as error:
        print(f"synthetic_photos: cannot read {args.source}: {error}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    digits = len(str(args.count))
    for number in range(args.count):
        photo(source, number, width, height).save(args.out / f"photo-{number:0{digits}d}.jpg", quality=90)
    return 0


if __name__ == "__main__":
    sys.exit(main())
