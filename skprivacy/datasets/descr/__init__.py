"""Descriptions of the bundled datasets."""
