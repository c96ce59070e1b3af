"""Checkpoint layouts in the wild: key tables, weight files, original-release reading and
conversion, and config inference from the tensors."""
