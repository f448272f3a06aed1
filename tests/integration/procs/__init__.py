"""Processes started by the multi-process tests, and the helpers they share."""
