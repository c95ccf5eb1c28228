"""korean-gan: handwritten Korean (Hangul) glyph images from fonts and GANs.

The public API is re-exported here lazily: ``import korean_gan`` loads nothing heavy, and
TensorFlow is imported only when a model, loss or trainer is first used.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# name -> module that defines it
_EXPORTS = {
    # charsets
    "Charset": "charsets", "CharsetError": "charsets", "SEED16": "charsets",
    "resolve_charset": "charsets", "ks2350": "charsets", "all11172": "charsets",
    "decompose": "charsets", "compose": "charsets", "is_hangul_syllable": "charsets",
    # fonts
    "FontFace": "fonts", "FontError": "fonts", "FontSkippedWarning": "fonts",
    "bundled_font_dir": "fonts", "load_faces": "fonts", "drawn_syllables": "fonts",
    "read_catalog": "fonts",
    # rendering and augmentation
    "GlyphRenderer": "render", "RenderConfig": "render", "render_glyph": "render",
    "AugmentConfig": "augment", "augment_glyph": "augment", "seed_transforms": "augment",
    "elastic_distort": "augment", "random_affine": "augment", "stroke_variants": "augment",
    "random_affine_batch": "augment",
    # datasets
    "BuildConfig": "data", "BuildResult": "data", "DatasetError": "data",
    "GlyphDataset": "data", "build_dataset": "data", "load_dataset": "data",
    "preview_grid": "data", "to_tf_dataset": "data",
    # models, losses, training, sampling, evaluation
    "build_generator": "models", "build_discriminator": "models", "build_evaluator": "models",
    "get_losses": "losses",
    "GAN": "train", "TrainConfig": "train",
    "load_generator": "sampling", "sample_images": "sampling",
    "Evaluator": "evaluate", "EvaluatorConfig": "evaluate", "evaluate_samples": "evaluate",
    "real_statistics": "evaluate", "train_evaluator": "evaluate",
    "classification_accuracy_score": "evaluate", "CASConfig": "evaluate",
    # generated handwriting (the conditional model)
    "Handwriting": "handwriting", "HandwritingError": "handwriting",
    "SynthConfig": "handwriting", "export_model": "handwriting",
    "pretrained_models": "handwriting",
    "jamo_table": "charsets", "ks2350_train": "charsets", "ks2350_holdout": "charsets",
    "save_dataset": "data",
    # your own handwriting: template sheets, scan ingestion, style fitting
    "TemplateConfig": "template", "write_template": "template", "make_layout": "template",
    "load_layout": "template", "IngestConfig": "ingest", "ingest": "ingest",
    "ingest_photos": "ingest", "AdaptConfig": "adapt", "adapt": "adapt",
    # a faster copy of a conditional model
    "DistillConfig": "distill", "distill": "distill",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'korean_gan' has no attribute {name!r}")
    loaded = importlib.import_module(f"korean_gan.{module}")
    # Bind every export of that module now: importing korean_gan.adapt set the package's
    # attribute `adapt` to the module, and the function of that name must win.
    for export, source in _EXPORTS.items():
        if source == module:
            globals()[export] = getattr(loaded, export)
    return globals()[name]


def __dir__() -> list[str]:
    return __all__
