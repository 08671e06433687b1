"""Bundled data files (see LICENSE-DATA.txt)."""
