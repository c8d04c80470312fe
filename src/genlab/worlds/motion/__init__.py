"""World ``motion`` (issue 6): ``shapes`` objects moving under a small rigid-body simulator.

:mod:`.spec` describes a scene (bodies at t = 0 and its physics), :mod:`.physics`
simulates it exactly at any frame rate dividing 240, and :mod:`.frames` draws each
frame with the ``shapes`` renderer, so the ``scene`` judge parses every frame exactly.
:mod:`.grammar` turns prompts into specs and scenes, and :mod:`.splits` samples the
three scenarios (uniform, parabola, collision) with out-of-distribution physics held
out of ``train``.
"""
