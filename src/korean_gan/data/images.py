"""Image helpers without TensorFlow: converting model output, tiling grids, captions, GIFs."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from korean_gan._io import atomic_path

__all__ = ["caption", "from_model_output", "save_png", "tile", "write_gif"]


def from_model_output(images: np.ndarray) -> np.ndarray:
    """Generator output in [-1, 1] (1 = paper), any of (N, S, S, 1) / (N, S, S), to uint8
    (N, S, S) with 255 = paper, the dataset convention."""
    array = np.asarray(images, dtype=np.float32)
    if array.ndim == 4 and array.shape[-1] == 1:
        array = array[..., 0]
    return np.clip(np.rint((array + 1.0) * 127.5), 0, 255).astype(np.uint8)


def tile(images: np.ndarray, cols: int | None = None, gap: int = 2,
         background: int = 160) -> np.ndarray:
    """Tiles uint8 images (N, H, W) into one grid image, row by row.

    Args:
        images: The images.
        cols: Images per row (default: a near-square grid).
        gap: Pixels between cells and around the grid.
        background: Gray level of the gaps.
    """
    n, height, width = images.shape
    cols = cols or max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / cols))
    grid = np.full((rows * (height + gap) + gap, cols * (width + gap) + gap), background,
                   np.uint8)
    for i in range(n):
        r, c = divmod(i, cols)
        y, x = gap + r * (height + gap), gap + c * (width + gap)
        grid[y:y + height, x:x + width] = images[i]
    return grid


def caption(grid: np.ndarray, text: str, scale: int = 3) -> Image.Image:
    """Upscales a grid (nearest neighbour) and writes ``text`` in a white band above it."""
    image = Image.fromarray(grid).resize((grid.shape[1] * scale, grid.shape[0] * scale),
                                         Image.Resampling.NEAREST)
    band = max(14, 6 * scale)
    out = Image.new("L", (image.width, image.height + band), 255)
    out.paste(image, (0, band))
    font = ImageFont.load_default(size=band - 4)
    ImageDraw.Draw(out).text((4, 1), text, fill=0, font=font)
    return out


def save_png(image: Image.Image | np.ndarray, path: str | os.PathLike) -> Path:
    """Saves a PNG atomically."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    with atomic_path(path, suffix=".png") as tmp:
        image.save(tmp, format="PNG")
    return Path(path)


_EPOCH = re.compile(r"epoch_(\d+)\.png$")


def frame_paths(folder: str | os.PathLike) -> list[Path]:
    """The ``epoch_NNNN.png`` frames in ``folder``, in epoch order."""
    frames = [p for p in Path(folder).glob("epoch_*.png") if _EPOCH.search(p.name)]
    return sorted(frames, key=lambda p: int(_EPOCH.search(p.name).group(1)))


def write_gif(frames: Sequence[str | os.PathLike], out: str | os.PathLike,
              seconds_per_frame: float = 0.15, hold_last: float = 2.0,
              max_frames: int = 80, width: int | None = None) -> Path:
    """Assembles PNG frames into a looping GIF (with imageio), holding the last frame.

    More than ``max_frames`` frames are thinned evenly (first and last kept) so long runs still
    give a small file; ``width`` rescales the frames.

    Raises:
        ValueError: no frames.
    """
    import imageio.v3 as iio

    frames = list(frames)
    if not frames:
        raise ValueError("no sample frames to assemble into a GIF; train at least one epoch")
    if len(frames) > max_frames:
        keep = np.unique(np.linspace(0, len(frames) - 1, max_frames).round().astype(int))
        frames = [frames[i] for i in keep]
    opened = [Image.open(f).convert("L") for f in frames]
    if width is not None:
        opened = [im.resize((width, round(im.height * width / im.width)),
                            Image.Resampling.LANCZOS) for im in opened]
    images = [np.asarray(im) for im in opened]
    shape = images[-1].shape
    images = [im if im.shape == shape else np.asarray(Image.fromarray(im).resize(shape[::-1]))
              for im in images]
    durations = [int(seconds_per_frame * 1000)] * (len(images) - 1) + [int(hold_last * 1000)]
    # Pillow's GIF writer takes a list only for several frames.
    duration = durations if len(images) > 1 else durations[0]
    with atomic_path(out, suffix=".gif") as tmp:
        iio.imwrite(tmp, np.stack(images), extension=".gif", duration=duration, loop=0)
    return Path(out)
