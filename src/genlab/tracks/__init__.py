"""Tracks: one benchmark per open problem, each a fixed protocol scored with intervals.

A track owns its prompt sets, judges and statistics; ``run(generator)`` stores
every judged sample and returns a :class:`~genlab.tracks.scorecard.Scorecard`.
Tracks are registered in :mod:`genlab.catalog`; the controls of
``catalog.CONTROLS`` are scored beside every generator.
"""
