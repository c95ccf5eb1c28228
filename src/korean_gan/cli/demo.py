"""`korean-gan demo`: the quick start's main job."""

from __future__ import annotations

from korean_gan.artifacts import GIF_FILE
from korean_gan.cli._common import int_range

# The demo's training budget: about 15 minutes of the reference model on 2 CPU cores.
DEMO_EPOCHS = 170


def add_parsers(sub) -> None:
    """Adds ``demo``."""
    demo = sub.add_parser(
        "demo", help="the quick start's main job: build the default dataset, train the "
                     "reference GAN, write media/ganadalama.gif, and write a sentence in "
                     "generated handwriting (media/handwriting.png)",
    )
    demo.add_argument("--epochs", type=int_range(1, 100_000), default=DEMO_EPOCHS,
                      help=f"training epochs (default {DEMO_EPOCHS}: about 15 minutes on 2 CPU "
                           "cores)")
    demo.add_argument("--fonts", nargs="+", default=["bundled"], metavar="PATH")
    demo.add_argument("--data", default="data/seed16.npz", help="where the dataset is built")
    demo.add_argument("--run-dir", default=None, help="default runs/ganadalama-<date-time>")
    demo.add_argument("--media", default="media", help="where the GIF and final grid go")
    demo.set_defaults(handler=_cmd_demo)


def _cmd_demo(args) -> int:
    import shutil
    import time
    from pathlib import Path

    from korean_gan.data.dataset import build_dataset
    from korean_gan.data.images import save_png, tile

    started = time.perf_counter()
    built = build_dataset(fonts=tuple(args.fonts), out=args.data, progress=False)
    print(f"1/4 dataset {built.path}: {built.n_images:,} images ({built.n_glyphs} glyphs of "
          f"{built.n_classes} syllables from {built.n_fonts} fonts × "
          f"{len(built.manifest['augmentations'])} variants); preview {built.preview_path}")

    from korean_gan.artifacts import load_generator
    from korean_gan.generate import sample_images
    from korean_gan.training.config import TrainConfig
    from korean_gan.training.trainer import train

    run_dir = Path(args.run_dir or time.strftime("runs/ganadalama-%Y%m%d-%H%M%S"))
    config = TrainConfig.from_preset("reference", data=str(built.path), run_dir=str(run_dir),
                                     epochs=args.epochs,
                                     batch_size=min(256, built.n_images), verbose=2)
    print(f"2/4 training the reference DCGAN for {args.epochs} epochs into {run_dir} "
          "(Ctrl-C stops after the current step, with a checkpoint)")
    history = train(config)
    media = Path(args.media)
    gif = media / "ganadalama.gif"
    from korean_gan._io import atomic_path

    with atomic_path(gif, suffix=".gif") as tmp:
        shutil.copyfile(run_dir / GIF_FILE, tmp)
    final = save_png(tile(sample_images(load_generator(run_dir), 64, seed=1), cols=8),
                     media / "ganadalama-final.png")
    print(f"3/4 wrote {gif} (samples over {len(history.epoch)} epochs) and {final} "
          f"(64 new glyphs)")
    sentence = _demo_sentence(media / "handwriting.png")
    minutes = (time.perf_counter() - started) / 60
    print(f"4/4 wrote {sentence}: \"{DEMO_TEXT}\" in three generated handwriting styles "
          f"(the pretrained conditional model; `korean-gan write` writes any text) in "
          f"{minutes:.1f} min in all")
    return 130 if history.interrupted else 0


#: A Korean pangram ("the squirrel wants to ride the old wheel"), written by the demo.
DEMO_TEXT = "다람쥐 헌 쳇바퀴에 타고파"


def _demo_sentence(path) -> str:
    """Writes DEMO_TEXT in two font styles and one random style, one line each."""
    import numpy as np

    from korean_gan.data.images import save_png
    from korean_gan.generate import Handwriting

    writer = Handwriting.load("default")
    lines = [writer.write(DEMO_TEXT, style=style, seed=seed)
             for style, seed in ((0, 0), (len(writer.fonts) // 2, 0), ("random-one", 3))]
    width = max(line.shape[1] for line in lines)
    page = np.concatenate([np.pad(line, ((0, 0), (0, width - line.shape[1])),
                                  constant_values=255) for line in lines])
    return str(save_png(page, path))
