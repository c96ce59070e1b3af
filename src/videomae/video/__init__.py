"""Video files: clip sampling (``sampling``), decoding (``decode``) and writing (``write``).

Frame index ``i`` always means the ``i``-th frame of the video stream in presentation order,
counting from 0. ``sampling`` holds the pure index functions; ``decode`` opens files and returns
clips, using ``framemap`` (frame index <-> timestamp) and ``decoder`` (seek and decode forward);
``write`` encodes frames. PyAV (the ``video`` extra) is imported in ``backend`` only.
"""
