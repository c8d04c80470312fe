"""genlab: a laboratory for the open problems of generative image and video models.

See ``docs/`` and the README for the tracks, and ``genlab --help`` for the CLI.
"""

from __future__ import annotations

__version__ = "0.1.0"
