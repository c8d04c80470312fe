"""Generators: text (+ layout boxes) to images. Registered in :mod:`genlab.catalog`."""
