"""Your own handwriting: a printable template, reading photos of it back, and fitting the
conditional model's style to what you wrote.
"""
