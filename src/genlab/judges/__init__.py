"""Judges: pure functions of (images, specs) to verdicts (contracts.Judge).

``scene`` (:mod:`genlab.judges.scene`) is the exact object-level judge of the
``shapes`` world, in the protocol of GenEval (Ghosh et al., 2023): its
detector (:mod:`~genlab.judges.detect`, :mod:`~genlab.judges.measure`,
:mod:`~genlab.judges.templates`) reads objects back from pixels with no
learned model, and :mod:`~genlab.judges.validate` measures how exactly it
does so on oracle renders under noise, blur and JPEG.
"""
