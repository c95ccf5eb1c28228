"""Evaluation: metric maths in pure NumPy (:mod:`.metrics`) and the evaluator network that
measures generated glyphs (FCD, KID, precision/recall, legibility, content accuracy, CAS).

Nothing here imports training.
"""
