"""``flow``: a text (+ layout boxes) to image rectified-flow model trained here from scratch.

Public API::

    from genlab.generators.flow import FlowConfig, FlowGenerator, ensure_trained, train
    ckpt = ensure_trained(FlowConfig.default(), cache_dir)
    gen = FlowGenerator(ckpt, steps=20, sampler="euler", guidance=2.0)
"""

from genlab.generators.flow.config import FlowConfig
from genlab.generators.flow.generator import FlowGenerator
from genlab.generators.flow.sampling import SAMPLERS
from genlab.generators.flow.train import ensure_trained, train

__all__ = ["SAMPLERS", "FlowConfig", "FlowGenerator", "ensure_trained", "train"]
