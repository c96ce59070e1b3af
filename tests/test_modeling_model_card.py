"""The README.md model card: Hub front matter, metrics only when known, loading snippets."""

from __future__ import annotations

import pytest

from videomae import VideoMAEConfig
from videomae.modeling.model_card import CardFacts, model_card

hub = pytest.importorskip("huggingface_hub")


def _parse(text: str, tmp_path):
    path = tmp_path / "README.md"
    path.write_text(text)
    return hub.ModelCard.load(path)


def test_classifier_card_with_metrics_parses_as_a_hub_card(tmp_path, tiny_config) -> None:
    config = tiny_config.copy(id2label={0: "a", 1: "b"})
    facts = CardFacts(
        training={"recipe": "videomae finetune", "steps": 12},
        metrics={"val_top1": 87.5, "val_top5": 100.0, "val_loss": 0.3},
        base_model="MCG-NJU/videomae-base",
        dataset="ucf101",
    )
    card = _parse(model_card(config, "VideoMAEForVideoClassification", facts, "clf"), tmp_path)
    data = card.data.to_dict()
    assert (data["library_name"], data["pipeline_tag"]) == ("transformers", "video-classification")
    assert data["base_model"] == "MCG-NJU/videomae-base"
    results = {r.metric_type: r.metric_value for r in card.data.eval_results}
    assert results == {"accuracy": 87.5, "top_5_accuracy": 100.0}  # val_loss is not a result
    assert card.data.eval_results[0].dataset_name == "ucf101"
    assert "2 classes" in card.text and "- steps: 12" in card.text
    assert "## Evaluation on ucf101" in card.text


def test_card_without_results_has_no_model_index_and_no_local_base_model(tmp_path) -> None:
    config = VideoMAEConfig(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64
    )
    text = model_card(config, "VideoMAEForPreTraining", CardFacts(base_model="runs/pt/final"))
    card = _parse(text, tmp_path)
    data = card.data.to_dict()
    assert data["pipeline_tag"] == "feature-extraction"
    assert "model-index" not in data and "base_model" not in data
    assert "VideoEmbedder.from_pretrained" in card.text
    assert "16 frames of 224x224" in card.text
