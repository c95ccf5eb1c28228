"""Glyph data: charsets, fonts, rendering, augmentation, datasets and image files.

Nothing here knows of models or training.
"""
