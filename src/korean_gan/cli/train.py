"""`korean-gan train`, `sample`, `gif`, `distill` and `train-upsampler`: train models and look at
what they make."""

from __future__ import annotations

from korean_gan.artifacts import (
    CHECKPOINT_DIR,
    GENERATOR_FILE,
    GIF_FILE,
    LOG_FILE,
    SAMPLES_DIR,
)
from korean_gan.cli._common import (
    PRECISIONS,
    SEED,
    STRATEGIES,
    ConfigOptions,
    float_range,
    int_range,
    model_source,
)

CONFIG_OPTIONS = (
    ConfigOptions(
        ("train",), ("korean_gan.training.config.ReferenceConfig",
                     "korean_gan.training.config.ConditionalConfig"),
        {"preset": "preset", "data": "data", "run_dir": "run_dir", "epochs": "epochs",
         "batch_size": "batch_size", "g_lr": "g_learning_rate", "d_lr": "d_learning_rate",
         "lr_decay_epochs": "lr_decay_epochs", "g_filters": "g_filters",
         "d_filters": "d_filters", "content_weight": "content_weight",
         "content_affine": "content_affine",
         "recognizer_epochs": "recognizer_epochs",
         "recognizer_warmup": "recognizer_warmup_epochs", "repeat_font": "repeat_fonts",
         "init_from": "init_from", "seed": "seed", "checkpoint_every": "checkpoint_every",
         "snapshot_every": "snapshot_every", "eval_every": "eval_every",
         "precision": "precision", "strategy": "strategy", "no_tensorboard": "tensorboard",
         "quiet": "verbose"},
        # The model's architecture and loss are its preset's; the rest rarely needs changing.
        api_only=frozenset({"model", "noise_dim", "beta_1", "beta_2", "loss",
                            "keep_checkpoints", "sample_every", "eval_samples", "ema_decay",
                            "diffaugment", "spectral_norm", "aux_weight", "recon_weight"}),
        cli_only=frozenset({"resume"})),
    ConfigOptions(
        ("distill",), ("korean_gan.training.distill.DistillConfig",),
        {"model": "model", "out": "out", "filters": "block_filters", "steps": "steps",
         "seed": "seed", "quiet": "progress"},
        api_only=frozenset({"batch_size", "learning_rate", "validation_glyphs"})),
    ConfigOptions(
        ("train-upsampler",), ("korean_gan.training.upsample.UpsamplerConfig",),
        {"small": "small", "large": "large", "charset": "charset", "out": "out",
         "epochs": "epochs", "filters": "filters", "blocks": "blocks", "seed": "seed"},
        api_only=frozenset({"held_out_fonts", "batch_size", "learning_rate", "degrade"}),
        cli_only=frozenset({"quiet"})),
)


def add_parsers(sub) -> None:
    """Adds ``train``, ``sample``, ``gif``, ``distill`` and ``train-upsampler``."""
    train = sub.add_parser(
        "train", help="train a GAN on a built dataset",
        description="Train a GAN; everything the run writes (config, samples, GIF, log, "
                    "TensorBoard, checkpoints, final generator) goes into its run folder.",
    )
    train.add_argument("--preset", default="reference",
                       help="model and hyperparameters: reference (the reference DCGAN with the "
                            "TensorFlow DCGAN tutorial's Adam 1e-4, batch 256); hangul (the "
                            "conditional model: jamo + style conditioning)")
    train.add_argument("--data", default=None,
                       help="dataset .npz (default data/seed16.npz)")
    train.add_argument("--run-dir", default=None, help="run folder (default runs/<preset>)")
    train.add_argument("--epochs", type=int_range(1, 100_000), default=None,
                       help="total epochs (default 50)")
    train.add_argument("--batch-size", type=int_range(1, 65_536), default=None)
    train.add_argument("--g-lr", type=float_range(1e-8, 1), default=None,
                       help="generator learning rate")
    train.add_argument("--d-lr", type=float_range(1e-8, 1), default=None,
                       help="discriminator learning rate")
    train.add_argument("--lr-decay-epochs", type=int_range(0, 100_000), default=None, metavar="N",
                       help="decay both learning rates linearly towards 0 over the last N "
                            "epochs (default 0: constant; may change on --resume)")
    train.add_argument("--g-filters", type=int_range(1, 4096), default=None, metavar="N",
                       help="conditional model: channels of the generator's first feature map, "
                            "halved at each of its 3 upsamplings (hangul preset: 256)")
    train.add_argument("--d-filters", type=int_range(1, 4096), default=None, metavar="N",
                       help="conditional model: channels of the critic's first block, doubled "
                            "twice (hangul preset: 32)")
    train.add_argument("--content-weight", type=float_range(0, 1000), default=None, metavar="W",
                       help="conditional model: weight of the content loss, a frozen jamo "
                            "recogniser (trained on the run's data at its start) reading the "
                            "generated glyphs (default 0: off)")
    train.add_argument("--content-affine", action="store_true", default=None,
                       help="conditional model with --content-weight: the recogniser reads "
                            "each generated glyph randomly scaled and moved, so glyphs must "
                            "read at any size and place (as in a written line)")
    train.add_argument("--recognizer-epochs", type=int_range(0, 10_000), default=None, metavar="N",
                       help="conditional model with --content-weight: epochs of its recogniser "
                            "(default 30: about 20 minutes on 2 cores for ks2350-train)")
    train.add_argument("--recognizer-warmup", type=float_range(0, 10_000), default=None,
                       metavar="EPOCHS",
                       help="conditional model with --content-weight: warm its recogniser's "
                            "learning rate up from 0 over this many epochs (default 0)")
    train.add_argument("--repeat-font", action="append", default=None, metavar="NAME=K",
                       help="show this font's training glyphs K times per epoch (repeatable): "
                            "more steps on a style the model draws badly")
    train.add_argument("--init-from", default=None, metavar="MODEL",
                       help="conditional model: start the generator and styles from a trained "
                            "model (default = the pretrained one, or a run folder) and "
                            "fine-tune it; the critic starts fresh")
    train.add_argument("--seed", type=SEED, default=None, help="random seed (default 0)")
    train.add_argument("--checkpoint-every", type=int_range(1, 100_000), default=None, metavar="N",
                       help="checkpoint every N epochs (default 5; always at the end)")
    train.add_argument("--snapshot-every", type=int_range(0, 100_000), default=None, metavar="N",
                       help="keep the generator's weights every N epochs in snapshots/")
    train.add_argument("--eval-every", type=int_range(0, 100_000), default=None, metavar="N",
                       help="measure FCD, legibility and coverage every N epochs and keep the "
                            "best generator (default 10; 0 = off)")
    train.add_argument("--precision", default=None,
                       choices=PRECISIONS,
                       help="float32 (default), mixed_bfloat16 (CPUs with AVX512-BF16/AMX), "
                            "mixed_float16 (GPUs), or auto (float16 on a GPU; bf16 on a CPU "
                            "where a timed matmul shows it faster; else float32)")
    train.add_argument("--strategy", default="default",
                       choices=STRATEGIES,
                       help="default (one device), mirrored (every GPU of this machine), "
                            "multiworker (the machines in TF_CONFIG); --batch-size is the "
                            "global batch")
    train.add_argument("--resume", action="store_true",
                       help="continue the run in --run-dir from its last checkpoint")
    train.add_argument("--no-tensorboard", action="store_true")
    train.add_argument("--quiet", action="store_true", help="one line per epoch, no bar")
    train.set_defaults(handler=_cmd_train)

    sample = sub.add_parser("sample", help="generate images with a trained generator")
    where = sample.add_mutually_exclusive_group(required=True)
    where.add_argument("--run-dir", help="a run folder")
    where.add_argument("--weights", help="a generator .weights.h5 file")
    sample.add_argument("--n", type=int_range(1, 100_000), default=16,
                        help="number of images (default 16)")
    sample.add_argument("--seed", type=SEED, default=0, help="noise seed (default 0)")
    sample.add_argument("--out", required=True,
                        help="grid.png (a grid of the images) or samples.npz (uint8 images)")
    sample.set_defaults(handler=_cmd_sample)

    sample.add_argument("--chars", default=None,
                        help="conditional runs: syllables to draw, in turn (default: the "
                             "reference's 16)")
    sample.add_argument("--style", default="random",
                        help="conditional runs: a font number or name, random (a new style "
                             "per image), mix (a new blend of two fonts per image) or mean "
                             "(default random)")

    gif = sub.add_parser("gif", help="assemble a run's sample grids into an animated GIF")
    gif.add_argument("--run-dir", required=True, help="a run folder")
    gif.add_argument("--out", default=None, help="default <run-dir>/samples.gif")
    gif.add_argument("--frame-seconds", type=float_range(0.01, 60), default=0.15)
    gif.add_argument("--max-frames", type=int_range(1, 10_000), default=80,
                     help="thin longer runs evenly to this many frames (default 80)")
    gif.add_argument("--width", type=int_range(16, 4096), default=None,
                     help="rescale frames to this width")
    gif.set_defaults(handler=_cmd_gif)

    distill = sub.add_parser(
        "distill", help="make a faster copy of a conditional model (narrower last blocks)",
        description="Train a generator whose last blocks are narrower to draw what a "
                    "conditional model draws (the blocks before them are the model's own, "
                    "frozen), and save it as a model folder that write and synth take with "
                    "--model. No data needed.")
    distill.add_argument("--model", default="default",
                         help="the model to copy: default (the pretrained model) or a "
                              "conditional model folder")
    distill.add_argument("--out", default="models/hangul-fast",
                         help="the new model folder (default models/hangul-fast)")
    distill.add_argument("--filters", default="128,32,16",
                         help="channels of the new model's three upsampling blocks, each at "
                              "most the model's (default 128,32,16, as the committed "
                              "hangul-fast; the default model has 128,64,32)")
    distill.add_argument("--steps", type=int_range(1, 10_000_000), default=3000,
                         help="training steps (default 3000, about 15 min on 2 cores)")
    distill.add_argument("--seed", type=SEED, default=0)
    distill.add_argument("--quiet", action="store_true", help="no progress bar")
    distill.set_defaults(handler=_cmd_distill)

    up = sub.add_parser(
        "train-upsampler", help="train the glyph upsampler (32 px -> 128 px) on font renders",
        description="Train the network that redraws the model's 32 px glyphs at 128 px (or "
                    "64 px: the size of --large), on pairs of the same glyphs rendered at both "
                    "sizes (`data build --augment none --size 32` and `--size 128`); the "
                    "evaluators' held-out fonts are left out. Writes a folder like "
                    "korean_gan/upsampler.")
    up.add_argument("--small", default="data/ks2350-32.npz", help="the 32 px build")
    up.add_argument("--large", default="data/ks2350-128.npz",
                    help="the same build at the output size (128 px; 64 px for upsampler64)")
    up.add_argument("--charset", default="ks2350-train",
                    help="syllables to train on (default ks2350-train)")
    up.add_argument("--out", default="runs/upsampler", help="the folder to write")
    up.add_argument("--epochs", type=int_range(1, 10_000), default=6)
    up.add_argument("--filters", type=int_range(1, 1024), default=48)
    up.add_argument("--blocks", type=int_range(1, 64), default=3)
    up.add_argument("--seed", type=SEED, default=0)
    up.add_argument("--quiet", action="store_true", help="one line per epoch")
    up.set_defaults(handler=_cmd_train_upsampler)


def _cmd_train(args) -> int:
    from pathlib import Path

    from korean_gan.data.dataset import parse_repeat_fonts
    from korean_gan.training.config import TrainConfig
    from korean_gan.training.trainer import read_run_config, train

    verbose = 2 if args.quiet else "auto"
    if args.resume:
        if not args.run_dir:
            raise ValueError("--resume needs the --run-dir of the run to continue")
        config = read_run_config(Path(args.run_dir))
        # The folder named here, not the one saved in it: a copied or moved run goes on in place.
        config.run_dir = args.run_dir
        config.epochs = args.epochs or config.epochs
        if args.lr_decay_epochs is not None:
            config.lr_decay_epochs = args.lr_decay_epochs
        config.verbose = verbose
        config.strategy = args.strategy
        config.precision = args.precision or config.precision
    else:
        config = TrainConfig.from_preset(
            args.preset, data=args.data, run_dir=args.run_dir,
            epochs=args.epochs, batch_size=args.batch_size, g_learning_rate=args.g_lr,
            d_learning_rate=args.d_lr, lr_decay_epochs=args.lr_decay_epochs,
            g_filters=args.g_filters, d_filters=args.d_filters,
            content_weight=args.content_weight, content_affine=args.content_affine,
            init_from=args.init_from,
            recognizer_epochs=args.recognizer_epochs,
            recognizer_warmup_epochs=args.recognizer_warmup,
            repeat_fonts=parse_repeat_fonts(args.repeat_font or ()) or None,
            seed=args.seed, checkpoint_every=args.checkpoint_every,
            snapshot_every=args.snapshot_every, eval_every=args.eval_every,
            tensorboard=False if args.no_tensorboard else None, verbose=verbose,
            precision=args.precision, strategy=args.strategy,
        )
    history = train(config, resume=args.resume)
    run = Path(config.run_dir)
    print(f"run folder {run}: {GIF_FILE}, {SAMPLES_DIR}/, {LOG_FILE}, {CHECKPOINT_DIR}/, "
          f"{GENERATOR_FILE}")
    if history.interrupted:
        print(f"stopped early and checkpointed; continue with: korean-gan train --resume "
              f"--run-dir {run}")
        return 130
    return 0


def _cmd_sample(args) -> int:
    import numpy as np

    from korean_gan._io import save_npz
    from korean_gan.artifacts import load_generator
    from korean_gan.data.images import save_png, tile
    from korean_gan.generate import sample_images

    out = args.out
    if not out.endswith((".png", ".npz")):
        raise ValueError(f"--out {out}: give a .png (grid) or .npz (images) file name")
    arrays = {}
    if args.run_dir and model_source(args.run_dir) == "conditional":
        from korean_gan.data.charsets import SEED16, resolve_charset
        from korean_gan.generate import Handwriting

        if args.n < 1:
            raise ValueError(f"--n must be a positive integer, got {args.n}")
        writer = Handwriting.load(args.run_dir)
        charset = resolve_charset(args.chars) if args.chars else resolve_charset(list(SEED16))
        labels = np.arange(args.n) % len(charset)
        images = writer.glyphs([charset.chars[i] for i in labels], args.style, seed=args.seed)
        arrays = {"labels": labels.astype(np.int32), "charset": np.array(charset.chars)}
    else:
        generator = load_generator(run_dir=args.run_dir, weights=args.weights)
        images = sample_images(generator, args.n, seed=args.seed)
    if out.endswith(".png"):
        save_png(tile(images), out)
    else:
        save_npz(out, {"images": images, **arrays, "seed": np.int64(args.seed)})
    print(f"wrote {args.n} samples to {out}")
    return 0


def _cmd_gif(args) -> int:
    from pathlib import Path

    from korean_gan.data.images import frame_paths, write_gif

    run = Path(args.run_dir)
    if not run.is_dir():
        raise ValueError(f"run folder {run} does not exist; give --run-dir of a training run")
    frames = frame_paths(run / SAMPLES_DIR)
    if not frames:
        raise ValueError(f"{run / 'samples'} holds no epoch_NNNN.png frames; train first")
    out = write_gif(frames, args.out or run / GIF_FILE, args.frame_seconds,
                    max_frames=args.max_frames, width=args.width)
    print(f"wrote {out} ({len(frames)} epochs)")
    return 0


def _widths(filters) -> str:
    return ",".join(str(f) for f in filters)


def _cmd_distill(args) -> int:
    from korean_gan.training.distill import DistillConfig, distill

    try:
        filters = tuple(int(f) for f in args.filters.split(","))
    except ValueError:
        raise ValueError(f"--filters {args.filters}: give three whole numbers separated by "
                         "commas, e.g. 128,32,16") from None
    result = distill(DistillConfig(model=args.model, out=args.out, block_filters=filters,
                                   steps=args.steps, seed=args.seed, progress=not args.quiet))
    print(f"distilled {args.model} (blocks of {_widths(result.teacher_block_filters)} channels) "
          f"into {_widths(result.block_filters)} in {result.seconds:.0f} s: difference to it "
          f"{result.difference_start:.2f} → {result.difference_end:.2f} grey levels (mean, of "
          "255)")
    print(f"wrote {result.path}; use it: korean-gan synth --model {result.path} ...")
    return 0


def _cmd_train_upsampler(args) -> int:
    from pathlib import Path

    from korean_gan.training.upsample import UpsamplerConfig, train_upsampler

    for path in (args.small, args.large):
        if not Path(path).is_file():
            raise ValueError(f"{path} does not exist; build it with `korean-gan data build "
                             "--charset ks2350 --augment none --size 32` (and --size 128)")
    config = UpsamplerConfig(small=args.small, large=args.large, charset=args.charset,
                             out=args.out, epochs=args.epochs, filters=args.filters,
                             blocks=args.blocks, seed=args.seed)
    folder, card = train_upsampler(config, progress=not args.quiet)
    training = card["training"]
    print(f"wrote {folder}: {training['pairs']:,} pairs, {training['epochs']} epochs in "
          f"{training['minutes_on_2_cpu_cores']} min, final MAE {training['final_mae']}")
    return 0
