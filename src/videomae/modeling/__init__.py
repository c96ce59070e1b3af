"""VideoMAE modules: embeddings -> encoder blocks -> (decoder) -> head; loading and saving."""
