"""Training recipes: one loop, pre-training and fine-tuning."""
