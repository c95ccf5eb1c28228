"""Network definitions (Keras only): the reference DCGAN, the conditional generator and
critic, the evaluator network, and the conditional model's style space.

Nothing here imports training, evaluation, the high-level API or the CLI.
"""
