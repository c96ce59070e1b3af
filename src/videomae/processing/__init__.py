"""Video preprocessing: functional ops, transformers-compatible processors, input handling.

* :mod:`~videomae.processing.ops`: tensor ops on ``(T, C, H, W)`` frames (``resize_short_side``,
  ``center_crop``, ``spatial_crops``, ``normalize``) used by training, evaluation and inference.
* :mod:`~videomae.processing.image_processor`: ``VideoMAEImageProcessor`` (numpy + PIL), the
  same parameters, config file and outputs as transformers'.
* :mod:`~videomae.processing.video_processor`: ``VideoMAEVideoProcessor``, the fast torch path.
* :mod:`~videomae.processing.config`: the shared settings and ``preprocessor_config.json``.
* :mod:`~videomae.processing.inputs`: the one splitter of inputs into single videos, and layouts.
* :mod:`~videomae.processing.parallel`: the thread pool that splits a clip's frames on CPU.
* :mod:`~videomae.processing.batch`: ``BatchFeature``, the processors' output.

Pixel values come out as ``(B, T, C, H, W)`` float32.
"""
