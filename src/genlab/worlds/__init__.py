"""Procedural worlds: structured specs rendered to pixels, so every answer is known."""
