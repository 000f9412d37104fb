"""Vox: a desktop voice for a local chat assistant."""
