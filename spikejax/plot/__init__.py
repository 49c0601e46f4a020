"""Matplotlib figures (headless-safe); every function returns `(fig, ax)` for the user to adjust."""
