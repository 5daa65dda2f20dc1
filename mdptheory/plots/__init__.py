"""Matplotlib figures (one paper style)."""
