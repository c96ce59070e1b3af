"""Data: list files and class folders, video datasets, clip transforms, mixup, synthetic videos."""

from videomae.data.datasets import (
    Sample,
    VideoClassificationDataset,
    VideoPretrainDataset,
    load_samples,
    read_label_names,
    read_list_file,
    scan_class_folders,
    scan_videos,
)

__all__ = [
    "Sample",
    "VideoClassificationDataset",
    "VideoPretrainDataset",
    "load_samples",
    "read_label_names",
    "read_list_file",
    "scan_class_folders",
    "scan_videos",
]
