"""Training configurations: one dataclass for the run, presets as named values.

The ``reference`` preset is the reference project's model with the TensorFlow DCGAN tutorial's
hyperparameters (Adam 1e-4 for both networks, batch 256, non-saturating BCE loss), since the
reference notebook's own are not public; ``hangul`` is the conditional model.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

__all__ = [
    "MODELS",
    "PRESETS",
    "PRESET_ALIASES",
    "ConditionalConfig",
    "ReferenceConfig",
    "TrainConfig",
    "TrainError",
    "config_class",
]


class TrainError(ValueError):
    """A training request that cannot run, with the value at fault and what to do."""


MODELS = ("dcgan", "conditional")
#: Earlier names of presets, still accepted (with a FutureWarning).
PRESET_ALIASES = {"seed": "reference"}


@dataclass
class TrainConfig:
    """What every model's training run shares: data, run folder, optimiser, schedule, hardware.

    Each model has its own subclass (:class:`ReferenceConfig`, :class:`ConditionalConfig`);
    :meth:`from_preset` gives the right one.

    Attributes:
        preset: Named model and hyperparameters (see :data:`PRESETS`).
        data: The dataset ``.npz`` (``korean-gan data build`` writes ``data/seed16.npz``).
        run_dir: The run folder; everything the run writes goes here.
        epochs: Total epochs (a resumed run continues up to this number).
        model: Model family (``dcgan`` is the reference's).
        noise_dim: Length of the generator's noise vector.
        batch_size: Images per training step.
        g_learning_rate: Adam learning rate of the generator.
        d_learning_rate: Adam learning rate of the discriminator.
        beta_1: Adam's first-moment decay.
        beta_2: Adam's second-moment decay.
        lr_decay_epochs: Decay both learning rates linearly towards 0 over the last this many
            epochs (pix2pix's schedule); 0 keeps them constant. A resume may change it.
        loss: Loss family (``nonsaturating`` or ``hinge``; see ``korean_gan.training.losses``).
        repeat_fonts: Font name -> how many times that font's training glyphs appear in
            every epoch (``--repeat-font NAME=K``): more steps on a style the model draws
            badly. Empty: each glyph once.
        precision: ``float32``, ``mixed_bfloat16`` (CPUs with AVX512-BF16/AMX),
            ``mixed_float16`` (GPUs; with loss scaling) or ``auto`` (by hardware); see
            ``korean_gan.training.distribute``.
        strategy: ``default`` (one device), ``mirrored`` (all GPUs of a machine) or
            ``multiworker`` (machines in ``TF_CONFIG``); ``batch_size`` is the global batch.
        seed: Seed of weights, noise, dropout and data order.
        checkpoint_every: Save a checkpoint every this many epochs (and at the end).
        keep_checkpoints: How many recent checkpoints to keep.
        sample_every: Save a sample grid (a GIF frame) every this many epochs.
        snapshot_every: Also keep the generator's weights every this many epochs in
            ``snapshots/`` (for evaluating a run over time); 0 keeps none.
        eval_every: Measure FCD, KID, legibility and coverage with the committed evaluator
            every this many epochs, log them to ``eval.csv`` and TensorBoard, and keep the
            best generator by FCD; 0 turns it off (also off if no evaluator reads the charset).
        eval_samples: Samples per evaluation.
        tensorboard: Write TensorBoard logs.
        verbose: Keras progress output: ``"auto"``, 0 (silent), 1 (bar) or 2 (line per epoch).
    """

    preset: str = "reference"
    data: str = "data/seed16.npz"
    run_dir: str = "runs/reference"
    epochs: int = 50
    model: str = "dcgan"
    noise_dim: int = 100
    batch_size: int = 256
    g_learning_rate: float = 1e-4
    d_learning_rate: float = 1e-4
    beta_1: float = 0.9
    beta_2: float = 0.999
    lr_decay_epochs: int = 0  # constant learning rates, as the reference and SN-GAN train
    loss: str = "nonsaturating"
    repeat_fonts: dict[str, int] = field(default_factory=dict)  # every glyph once
    precision: str = "float32"
    strategy: str = "default"
    seed: int = 0
    checkpoint_every: int = 5
    keep_checkpoints: int = 2
    sample_every: int = 1
    snapshot_every: int = 0
    eval_every: int = 10
    eval_samples: int = 2000
    tensorboard: bool = True
    verbose: int | str = "auto"

    @classmethod
    def from_preset(cls, preset: str = "reference", **overrides) -> TrainConfig:
        """The config of a preset's model with the preset's values, then ``overrides`` (None
        values are ignored).

        Raises:
            TrainError: an unknown preset, or an override that the preset's model has not.
        """
        if preset in PRESET_ALIASES:
            import warnings

            warnings.warn(f"preset {preset!r} is now called {PRESET_ALIASES[preset]!r}; the old "
                          "name will be removed", FutureWarning, stacklevel=2)
            preset = PRESET_ALIASES[preset]
        if preset not in PRESETS:
            raise TrainError(f"unknown preset {preset!r}; choose from {', '.join(PRESETS)}")
        values = {k: v for k, v in overrides.items() if v is not None}
        base = PRESETS[preset]
        known = {f.name for f in fields(base)}
        for name in values:
            if name not in known:
                conditional = name in {f.name for f in fields(ConditionalConfig)}
                raise TrainError(f"{name.replace('_', '-')} is for the conditional model "
                                 "(--preset hangul)" if conditional else
                                 f"unknown training setting {name!r}")
        # A deep copy: the preset's dict fields must not be shared with the new config.
        return replace(copy.deepcopy(base), **values)

    def validate(self) -> None:
        """Raises TrainError naming the first value that cannot work."""
        for name in ("snapshot_every", "eval_every", "lr_decay_epochs"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise TrainError(f"{name.replace('_', '-')} must be 0 or a positive integer, "
                                 f"got {value!r}")
        for name in ("epochs", "batch_size", "noise_dim", "checkpoint_every", "sample_every",
                     "keep_checkpoints"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise TrainError(f"{name.replace('_', '-')} must be a positive integer, got "
                                 f"{value!r}")
        if not isinstance(self.repeat_fonts, dict) or not all(
                isinstance(k, int) and not isinstance(k, bool) and k >= 1
                for k in self.repeat_fonts.values()):
            raise TrainError(f"repeat-font: give each font a whole number of repeats (1 or "
                             f"more), got {self.repeat_fonts!r}")
        for name in ("g_learning_rate", "d_learning_rate"):
            if not getattr(self, name) > 0:
                raise TrainError(f"{name.replace('_', '-')} must be positive")
        if self.model not in MODELS:
            raise TrainError(f"unknown model {self.model!r}; choose from {', '.join(MODELS)}")
        from korean_gan.training.distribute import PRECISIONS, STRATEGIES

        if self.precision not in PRECISIONS:
            raise TrainError(f"unknown precision {self.precision!r}; choose from "
                             f"{', '.join(PRECISIONS)}")
        if self.strategy not in STRATEGIES:
            raise TrainError(f"unknown strategy {self.strategy!r}; choose from "
                             f"{', '.join(STRATEGIES)}")
        expected = config_class(self.model)
        if not isinstance(self, expected) and not (type(self) is TrainConfig
                                                   and self.model == "dcgan"):
            raise TrainError(f"a {type(self).__name__} cannot train the {self.model} model; use "
                             f"{expected.__name__} or TrainConfig.from_preset")
        from korean_gan.training.losses import get_losses

        get_losses(self.loss)
        if self.preset not in PRESETS:
            raise TrainError(f"unknown preset {self.preset!r}; choose from {', '.join(PRESETS)}")
        for name in ("beta_1", "beta_2"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise TrainError(f"{name.replace('_', '-')} must be in [0, 1), got {value!r}")
        # The run folder, or the nearest existing folder above it, must be a writable folder:
        # fail now, naming the path, rather than after the data is loaded and the model built.

        run_dir = Path(self.run_dir)
        existing = next((p for p in (run_dir, *run_dir.parents) if p.exists()), None)
        if existing is not None and not existing.is_dir():
            where = "" if existing == run_dir else f" cannot be created: {existing}"
            raise TrainError(f"run folder {run_dir}{where} is a file; choose another --run-dir")
        if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
            raise TrainError(f"run folder {run_dir}: {existing} is not writable; choose another "
                             "--run-dir")


@dataclass
class ReferenceConfig(TrainConfig):
    """The reference DCGAN's training (``--preset reference``); its settings are
    :class:`TrainConfig`'s."""

    model: str = "dcgan"


@dataclass
class ConditionalConfig(TrainConfig):
    """The conditional model's training (``--preset hangul``): :class:`TrainConfig`'s settings
    and the model's own.

    Attributes:
        ema_decay: Decay of the generator's weight average used to sample.
        diffaugment: DiffAugment policy before the critic ("" = none).
        spectral_norm: Spectral normalisation on the critic's layers (Miyato et al. 2018);
            ``False`` only to measure what it does.
        g_filters: Channels of the generator's first feature map.
        d_filters: Channels of the critic's first block.
        aux_weight: Weight of the critic's auxiliary jamo classifiers (AC-GAN) in both losses;
            0 leaves content to the projection term alone.
        recon_weight: Weight of the L1 distance between a real glyph and the generated glyph
            of the same syllable and font (pix2pix/zi2zi); 0 turns it off.
        content_weight: Weight of a content loss, the jamo cross-entropy of a frozen recogniser
            reading the generated glyphs (ScrabbleGAN); the recogniser is trained on the run's
            own training glyphs when the run starts and kept in the run folder; 0 turns it off.
        content_affine: The recogniser reads each generated glyph randomly scaled (0.75-1.05)
            and moved (up to 3/32 of the side) instead of as drawn, so that glyphs read at any
            size and place (Expectation over Transformation).
        recognizer_epochs: Epochs of that recogniser.
        recognizer_warmup_epochs: Epochs over which the recogniser's learning rate rises
            linearly from 0 before its cosine decay (0: none, as the shipped model's had).
        init_from: Start the generator, its weight average and the font styles from a trained
            model folder (``default`` = the pretrained model, or a run folder) instead of at
            random: fine-tuning; the critic starts fresh. "" = scratch.
    """

    preset: str = "hangul"
    run_dir: str = "runs/hangul"
    model: str = "conditional"
    # Adam(2e-4, β₁ = 0, β₂ = 0.99) for both networks and the hinge loss, as in SN-GAN
    # (Miyato et al. 2018, https://arxiv.org/abs/1802.05957).
    noise_dim: int = 64
    batch_size: int = 128
    g_learning_rate: float = 2e-4
    d_learning_rate: float = 2e-4
    beta_1: float = 0.0
    beta_2: float = 0.99
    loss: str = "hinge"
    ema_decay: float = 0.999
    diffaugment: str = "translation,cutout"
    spectral_norm: bool = True  # on the critic's layers; off only to ablate it
    # Generator 256 → 32 filters: at 128 → 16 it underfits (drops the y-vowels' second stroke;
    # docs/conditional.md); a narrow critic (32 → 128) is enough.
    g_filters: int = 256
    d_filters: int = 32
    aux_weight: float = 0.0
    recon_weight: float = 20.0
    content_weight: float = 0.0  # off: the published presets have no recogniser
    content_affine: bool = False  # the recogniser reads the glyphs as drawn
    recognizer_epochs: int = 30  # with random affine variants every epoch; 10 read 81% of vowels
    recognizer_warmup_epochs: float = 0.0  # 0 keeps the shipped model's recogniser
    init_from: str = ""  # train from scratch

    def validate(self) -> None:
        """Raises TrainError naming the first value that cannot work."""
        super().validate()
        for name in ("g_filters", "d_filters", "recognizer_epochs"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise TrainError(f"{name.replace('_', '-')} must be a positive integer, got "
                                 f"{value!r}")
        if not isinstance(self.recognizer_warmup_epochs, (int, float)) \
                or isinstance(self.recognizer_warmup_epochs, bool) \
                or not 0 <= self.recognizer_warmup_epochs < self.recognizer_epochs:
            raise TrainError(f"recognizer-warmup must be a number from 0 to below "
                             f"recognizer-epochs ({self.recognizer_epochs}), got "
                             f"{self.recognizer_warmup_epochs!r}")
        if self.g_filters < 8:
            # Halved at each of the generator's three upsamplings: fewer than 8 leaves none.
            raise TrainError(f"g-filters must be at least 8 for the conditional model, got "
                             f"{self.g_filters}")
        for name in ("aux_weight", "recon_weight", "content_weight"):
            if not getattr(self, name) >= 0:
                raise TrainError(f"{name.replace('_', '-')} must be 0 or positive, got "
                                 f"{getattr(self, name)!r}")
        if not isinstance(self.content_affine, bool):
            raise TrainError(f"content-affine must be true or false, got "
                             f"{self.content_affine!r}")
        if self.content_affine and not self.content_weight > 0:
            raise TrainError("content-affine changes how the content loss reads the glyphs: "
                             "give --content-weight above 0 with it")
        if not 0.0 <= self.ema_decay < 1.0:
            raise TrainError(f"ema-decay must be in [0, 1), got {self.ema_decay!r}")
        from korean_gan.training.diffaugment import POLICIES as DIFFAUGMENT_POLICIES

        for name in self.diffaugment.split(","):
            if name and name not in DIFFAUGMENT_POLICIES:
                raise TrainError(f"unknown DiffAugment transform {name!r} in diffaugment; "
                                 f"choose from {', '.join(DIFFAUGMENT_POLICIES)}")


def config_class(model: str) -> type[TrainConfig]:
    """The config dataclass of a model family (``dcgan`` or ``conditional``).

    Raises:
        TrainError: an unknown model.
    """
    classes = {"dcgan": ReferenceConfig, "conditional": ConditionalConfig}
    if model not in classes:
        raise TrainError(f"unknown model {model!r}; choose from {', '.join(MODELS)}")
    return classes[model]


#: The named presets, each a complete config; :meth:`TrainConfig.from_preset` changes the
#: fields a user sets.
PRESETS: dict[str, TrainConfig] = {
    # The reference DCGAN (Radford et al. 2015, https://arxiv.org/abs/1511.06434) with the
    # TensorFlow DCGAN tutorial's training set-up.
    "reference": ReferenceConfig(),
    # The conditional model (korean_gan.training.conditional): jamo + font conditioning,
    # spectral norm, projection critic, hinge loss, DiffAugment, EMA.
    "hangul": ConditionalConfig(),
}
