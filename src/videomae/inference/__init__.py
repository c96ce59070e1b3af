"""Inference for people: classify or embed video files in a few lines.

    from videomae import VideoClassifier, VideoEmbedder

    clf = VideoClassifier.from_pretrained("path/to/checkpoint", clips=2, crops=3)
    clf("a.mp4")                      # [("archery", 0.91), ("bowling", 0.02), ...]
    clf(["a.mp4", "b.mp4"], top_k=3)  # one list per input; None where a file failed

    emb = VideoEmbedder.from_pretrained("path/to/checkpoint")
    emb.embed(["a.mp4", "b.mp4"])     # Embeddings: (N, D) features, names, indices, failures

The parts: ``views`` (the views of one video), ``runner`` (the one multi-view engine that
classification, embedding and evaluation share), ``preprocessing`` (a checkpoint's sizes and
statistics), ``pipeline`` (what the classifier and embedder share), ``classifier``,
``embedder``, ``embeddings_io``, ``reconstruct`` and ``results``.
"""
