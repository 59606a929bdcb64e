"""Showcase of apps and analyses built on open data (应用展示, Art. 16)."""
