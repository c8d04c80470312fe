"""Video generators: continue a ``motion`` video from its first frames, chunk by chunk
(the :class:`genlab.contracts.VideoGenerator` contract)."""
