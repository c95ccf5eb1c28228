"""korean-gan: handwritten Korean (Hangul) glyph images from fonts and GANs.

The public API is re-exported here lazily: ``import korean_gan`` loads nothing heavy, and
TensorFlow is imported only when a model, loss or trainer is first used.
"""

from __future__ import annotations

import importlib

__version__ = "0.2.0"

# name -> module that defines it
_EXPORTS = {
    # data: charsets, fonts, rendering, augmentation, datasets
    "Charset": "data.charsets", "CharsetError": "data.charsets", "SEED16": "data.charsets",
    "resolve_charset": "data.charsets", "ks2350": "data.charsets",
    "all11172": "data.charsets", "decompose": "data.charsets", "compose": "data.charsets",
    "is_hangul_syllable": "data.charsets", "jamo_table": "data.charsets",
    "ks2350_train": "data.charsets", "ks2350_holdout": "data.charsets",
    "FontFace": "data.fonts", "FontError": "data.fonts", "FontSkippedWarning": "data.fonts",
    "bundled_font_dir": "data.fonts", "load_faces": "data.fonts",
    "drawn_syllables": "data.fonts", "read_catalog": "data.fonts",
    "GlyphRenderer": "data.render", "RenderConfig": "data.render",
    "render_glyph": "data.render",
    "AugmentConfig": "data.augment", "augment_glyph": "data.augment",
    "reference_transforms": "data.augment", "seed_transforms": "data.augment",
    "elastic_distort": "data.augment",
    "random_affine": "data.augment", "stroke_variants": "data.augment",
    "random_affine_batch": "data.augment",
    "BuildConfig": "data.dataset", "BuildResult": "data.dataset",
    "DatasetError": "data.dataset", "GlyphDataset": "data.dataset",
    "build_dataset": "data.dataset", "load_dataset": "data.dataset",
    "preview_grid": "data.dataset", "to_tf_dataset": "data.dataset",
    "save_dataset": "data.dataset",
    "FontMetrics": "data.metrics", "MetricsTable": "data.metrics",
    "font_metrics": "data.metrics", "build_metrics_table": "data.metrics",
    "FontGlyphs": "data.layout", "Placement": "data.layout", "layout_text": "data.layout",
    # models
    "build_generator": "models.networks", "build_discriminator": "models.networks",
    "build_evaluator": "models.networks", "build_upsampler": "models.upsampler",
    # model and run folders
    "load_generator": "artifacts", "export_model": "artifacts",
    "interpolate_models": "artifacts",
    "pretrained_models": "artifacts", "ArtifactError": "artifacts",
    "load_upsampler": "artifacts",
    # training
    "GAN": "training.reference", "TrainConfig": "training.config",
    "get_losses": "training.losses", "train": "training.trainer",
    "DistillConfig": "training.distill", "distill": "training.distill",
    "UpsamplerConfig": "training.upsample", "train_upsampler": "training.upsample",
    # evaluation
    "Evaluator": "evaluation.evaluator", "EvaluatorConfig": "evaluation.evaluator",
    "evaluate_samples": "evaluation.evaluator", "real_statistics": "evaluation.evaluator",
    "train_evaluator": "evaluation.evaluator",
    "classification_accuracy_score": "evaluation.evaluator",
    "CASConfig": "evaluation.evaluator",
    # generating: the conditional model's handwriting, the reference GAN's samples
    "Handwriting": "generate", "HandwritingError": "generate", "SynthConfig": "generate",
    "sample_images": "generate", "SIZES": "generate", "RUNTIMES": "generate",
    "export_onnx": "generate",
    # your own handwriting: template sheets, scan ingestion, style fitting
    "TemplateConfig": "handwriting.template", "write_template": "handwriting.template",
    "make_layout": "handwriting.template", "load_layout": "handwriting.template",
    "IngestConfig": "handwriting.ingest", "ingest": "handwriting.ingest",
    "ingest_photos": "handwriting.ingest", "AdaptConfig": "handwriting.adapt",
    "adapt": "handwriting.adapt",
    # fonts of a style
    "FontConfig": "fontmaker", "FontMakerError": "fontmaker", "FontResult": "fontmaker",
    "make_font": "fontmaker", "svg_from_image": "data.svgfile", "save_svg": "data.svgfile",
    # text lines for OCR
    "LinesConfig": "textlines", "LinesError": "textlines", "LinesResult": "textlines",
    "make_lines": "textlines", "LineAugment": "data.lineaug", "read_lineset": "data.linesets",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'korean_gan' has no attribute {name!r}")
    loaded = importlib.import_module(f"korean_gan.{module}")
    # Bind every export of that module at once, so later lookups need no import.
    for export, source in _EXPORTS.items():
        if source == module:
            globals()[export] = getattr(loaded, export)
    return globals()[name]


def __dir__() -> list[str]:
    return __all__
