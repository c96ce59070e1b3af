"""Datasets, clip transforms, mixup and synthetic videos."""
