"""The three VideoMAE models, read as the paper: embeddings -> encoder -> (decoder) -> head.

Drop-in compatible with transformers' classes: same constructor, forward arguments, output
names and state-dict keys. Differences are deliberate fixes (see docs): bad masks raise instead
of mixing samples, masked tubelets are never embedded, the position table is built once.
"""

from __future__ import annotations

import os
from typing import Any

import torch
from torch import nn

from videomae.config import VideoMAEConfig
from videomae.errors import InputError
from videomae.modeling.attention import VideoMAESelfAttention, check_attn_implementation
from videomae.modeling.conveniences import ModelConveniences
from videomae.modeling.embeddings import PositionTableCache, VideoMAEEmbeddings
from videomae.modeling.inputs import check_decoder_mask, check_grid, check_mask, token_grid_of
from videomae.modeling.layers import VideoMAELayer, activation, run_blocks
from videomae.modeling.losses import (
    classification_loss,
    infer_problem_type,
    reconstruction_loss,
    reconstruction_targets,
)
from videomae.modeling.outputs import (
    BaseModelOutput,
    ImageClassifierOutput,
    VideoMAEForPreTrainingOutput,
)
from videomae.modeling.pretrained import load_pretrained
from videomae.modeling.saving import save_pretrained
from videomae.push import push_to_hub


# --------------------------------------------------------------------------- base class
class VideoMAEPreTrainedModel(ModelConveniences, nn.Module):
    """Shared plumbing: weight init, loading/saving, attention kernel, checkpointing."""

    config_class = VideoMAEConfig
    base_model_prefix = "videomae"
    main_input_name = "pixel_values"
    supports_gradient_checkpointing = True

    def __init__(self, config: VideoMAEConfig) -> None:
        super().__init__()
        if not isinstance(config, VideoMAEConfig):
            config = VideoMAEConfig.from_dict(config.to_dict())  # e.g. transformers' config
        config.validate()
        activation(config.hidden_act)  # an unknown name fails before any layer is allocated
        self.config = config

    # --- init -----------------------------------------------------------------
    def _init_weights(self, module: nn.Module) -> None:
        std = self.config.initializer_range
        if isinstance(module, (nn.Linear, nn.Conv3d)):
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def post_init(self) -> None:
        """Initialise every module once (the nested encoder already initialised itself)."""
        done = set()
        inner = getattr(self, self.base_model_prefix, None)
        if isinstance(inner, VideoMAEPreTrainedModel):
            done = {id(m) for m in inner.modules()}
        for module in self.modules():
            if id(module) not in done:
                self._init_weights(module)
        self.set_attn_implementation(self.config.attn_implementation)

    # --- attention kernel ---------------------------------------------------------
    def set_attn_implementation(self, name: str) -> None:
        """Switch every attention module (encoder and decoder) to 'sdpa', 'eager' or flash."""
        check_attn_implementation(name)
        self.config._attn_implementation = name
        for module in self.modules():
            if isinstance(module, VideoMAESelfAttention):
                module.attn_implementation = name

    def _flags(
        self, output_attentions, output_hidden_states, return_dict
    ) -> tuple[bool, bool, bool]:
        c = self.config
        return (
            c.output_attentions if output_attentions is None else output_attentions,
            c.output_hidden_states if output_hidden_states is None else output_hidden_states,
            c.return_dict if return_dict is None else return_dict,
        )

    # --- checkpoints ------------------------------------------------------------------
    @classmethod
    def from_pretrained(
        cls, pretrained_model_name_or_path: str | os.PathLike, *model_args: Any, **kwargs: Any
    ):
        """Load from a folder, a hub id, or an original-release `.pth` file.

        Accepts transformers' keyword arguments: `config`, `attn_implementation`,
        `torch_dtype`/`dtype`, `device`/`device_map`, `num_labels`, `id2label`, `label2id`,
        `ignore_mismatched_sizes`, `output_loading_info`, `revision`, `token`, `cache_dir`,
        `local_files_only`, plus any config field (e.g. `num_frames=8`).
        """
        return load_pretrained(cls, pretrained_model_name_or_path, **kwargs)

    def save_pretrained(self, save_directory: str | os.PathLike, **kwargs: Any) -> None:
        """Write `config.json` + `model.safetensors` in the layout transformers reads; takes
        `safe_serialization`, `max_shard_size`, `state_dict`, `push_to_hub` (+ `repo_id`,
        `private`, `token`, `commit_message`)."""
        save_pretrained(self, save_directory, **kwargs)

    def push_to_hub(self, repo_id: str, **kwargs: Any) -> str:
        """Save into a temporary folder and upload it (see :func:`videomae.push.push_folder`)."""
        save = {k: kwargs.pop(k) for k in ("safe_serialization", "max_shard_size") if k in kwargs}
        return push_to_hub(self, repo_id, save_kwargs=save, **kwargs)


# --------------------------------------------------------------------------- encoder
class VideoMAEEncoder(nn.Module):
    def __init__(self, config: VideoMAEConfig) -> None:
        super().__init__()
        n = config.num_hidden_layers
        rates = [config.drop_path_rate * i / max(1, n - 1) for i in range(n)]  # linear in depth
        self.layer = nn.ModuleList(
            VideoMAELayer(
                config,
                hidden_size=config.hidden_size,
                num_heads=config.num_attention_heads,
                intermediate_size=config.intermediate_size,
                drop_path_rate=rate,
            )
            for rate in rates
        )
        self.gradient_checkpointing = False

    def forward(self, x, output_hidden_states=False, output_attentions=False):
        return run_blocks(
            self.layer,
            x,
            checkpointing=self.gradient_checkpointing,
            output_hidden_states=output_hidden_states,
            output_attentions=output_attentions,
        )


class VideoMAEModel(VideoMAEPreTrainedModel):
    """The encoder: tubelet embeddings + transformer blocks (+ final LayerNorm without pooling)."""

    def __init__(self, config: VideoMAEConfig) -> None:
        super().__init__(config)
        self.embeddings = VideoMAEEmbeddings(self.config)
        self.encoder = VideoMAEEncoder(self.config)
        self.layernorm = (
            None
            if self.config.use_mean_pooling
            else nn.LayerNorm(self.config.hidden_size, eps=self.config.layer_norm_eps)
        )
        self.post_init()

    def forward(
        self,
        pixel_values: torch.Tensor,
        bool_masked_pos: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        interpolate_pos_encoding: bool = False,
        **kwargs: Any,
    ) -> BaseModelOutput | tuple:
        output_attentions, output_hidden_states, return_dict = self._flags(
            output_attentions, output_hidden_states, return_dict
        )
        grid = token_grid_of(pixel_values, self.config)
        check_grid(grid, self.config, interpolate_pos_encoding)
        if bool_masked_pos is not None:
            bool_masked_pos = check_mask(
                bool_masked_pos, pixel_values.shape[0], grid[0] * grid[1] * grid[2]
            )
            bool_masked_pos = bool_masked_pos.to(pixel_values.device)
            if bool(bool_masked_pos.all()):
                raise InputError("bool_masked_pos masks every token; keep at least one visible")
        x = self.embeddings(pixel_values, bool_masked_pos, grid)  # (B, n_visible, D)
        x, hidden, attns = self.encoder(x, output_hidden_states, output_attentions)
        if self.layernorm is not None:
            x = self.layernorm(x)
        out = BaseModelOutput(last_hidden_state=x, hidden_states=hidden, attentions=attns)
        return out if return_dict else out.to_tuple()


# --------------------------------------------------------------------------- pre-training
class VideoMAEDecoder(nn.Module):
    """Light decoder: blocks over visible + mask tokens, then norm and a pixel head."""

    def __init__(self, config: VideoMAEConfig) -> None:
        super().__init__()
        self.decoder_layers = nn.ModuleList(
            VideoMAELayer(
                config,
                hidden_size=config.decoder_hidden_size,
                num_heads=config.decoder_num_attention_heads,
                intermediate_size=config.decoder_intermediate_size,
            )
            for _ in range(config.decoder_num_hidden_layers)
        )
        eps = 1e-5 if config.decoder_norm_eps is None else config.decoder_norm_eps
        self.norm = nn.LayerNorm(config.decoder_hidden_size, eps=eps)
        out_dim = config.num_channels * config.tubelet_size * config.patch_hw[0] ** 2
        self.head = nn.Linear(config.decoder_hidden_size, out_dim)
        self.gradient_checkpointing = False

    def forward(self, x: torch.Tensor, return_token_num: int) -> torch.Tensor:
        x, _, _ = run_blocks(self.decoder_layers, x, checkpointing=self.gradient_checkpointing)
        x = x[:, x.shape[1] - return_token_num :]  # the mask tokens sit at the end
        return self.head(self.norm(x))


class VideoMAEForPreTraining(VideoMAEPreTrainedModel):
    """Encoder on visible tubelets, decoder reconstructs the masked ones (MSE in pixel space)."""

    def __init__(self, config: VideoMAEConfig) -> None:
        super().__init__(config)
        self.videomae = VideoMAEModel(self.config)
        self.encoder_to_decoder = nn.Linear(
            self.config.hidden_size, self.config.decoder_hidden_size, bias=False
        )
        self.mask_token = nn.Parameter(torch.zeros(1, 1, self.config.decoder_hidden_size))
        self.decoder = VideoMAEDecoder(self.config)
        grid = self.config.position_embedding_grid
        self.decoder_tables = PositionTableCache(
            self.config.decoder_hidden_size, tuple(grid) if grid else None
        )
        self.post_init()

    def targets(self, pixel_values: torch.Tensor, selected: torch.Tensor) -> torch.Tensor:
        """Pixels the decoder must predict for the `selected` (B, N) tokens, (B, n, ts*p*p*C).

        See :func:`videomae.modeling.losses.reconstruction_targets` (ImageNet un-normalisation
        for 3 channels, per-patch standardisation with norm_pix_loss).
        """
        c = self.config
        return reconstruction_targets(
            pixel_values,
            selected,
            patch_size=c.patch_hw[0],
            tubelet_size=c.tubelet_size,
            norm_pix_loss=c.norm_pix_loss,
        )

    def forward(
        self,
        pixel_values: torch.Tensor,
        bool_masked_pos: torch.Tensor | None = None,
        decoder_mask: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        interpolate_pos_encoding: bool = False,
        **kwargs: Any,
    ) -> VideoMAEForPreTrainingOutput | tuple:
        """`decoder_mask` (B, N) bool, optional (VideoMAE V2 dual masking): True = the decoder
        reconstructs this token (V2's ``~decode_masked_pos``), also where the encoder saw it;
        `logits` are then those tokens' in token order, and the loss averages over the ones that
        are also masked, as V2's pre-training does."""
        output_attentions, output_hidden_states, return_dict = self._flags(
            output_attentions, output_hidden_states, return_dict
        )
        if bool_masked_pos is None:
            raise ValueError(
                "VideoMAEForPreTraining needs bool_masked_pos (B, num_tokens), True = masked; "
                "make one with videomae.masking.tube_mask"
            )
        grid = token_grid_of(pixel_values, self.config)
        check_grid(grid, self.config, interpolate_pos_encoding)
        b, n = pixel_values.shape[0], grid[0] * grid[1] * grid[2]
        mask = check_mask(bool_masked_pos, b, n).to(pixel_values.device)
        if not bool(mask.any()):
            raise ValueError("bool_masked_pos masks no token; pre-training needs masked tokens")
        selected, weight = mask, None
        if decoder_mask is not None:
            selected, weight = check_decoder_mask(mask, decoder_mask, b, n)

        enc = self.videomae(
            pixel_values,
            bool_masked_pos=mask,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
            interpolate_pos_encoding=interpolate_pos_encoding,
        )
        x = self.encoder_to_decoder(enc.last_hidden_state)  # (B, n_visible, Dd)
        dd = x.shape[-1]
        table = self.decoder_tables.get(grid, x.device, x.dtype).unsqueeze(0).expand(b, -1, -1)
        pos_visible = table[~mask].reshape(b, -1, dd)
        pos_selected = table[selected].reshape(b, -1, dd)
        x = torch.cat([x + pos_visible, self.mask_token.to(x.dtype) + pos_selected], dim=1)
        logits = self.decoder(x, pos_selected.shape[1])  # (B, n_selected, ts*p*p*C)

        loss = reconstruction_loss(logits, self.targets(pixel_values, selected), weight)
        out = VideoMAEForPreTrainingOutput(
            loss=loss, logits=logits, hidden_states=enc.hidden_states, attentions=enc.attentions
        )
        return out if return_dict else out.to_tuple()


# --------------------------------------------------------------------------- classifier
class VideoMAEForVideoClassification(VideoMAEPreTrainedModel):
    """Encoder + mean pooling (or token 0) + linear head."""

    def __init__(self, config: VideoMAEConfig) -> None:
        super().__init__(config)
        c = self.config
        self.num_labels = c.num_labels
        self.videomae = VideoMAEModel(c)
        eps = 1e-5 if c.fc_norm_eps is None else c.fc_norm_eps
        self.fc_norm = nn.LayerNorm(c.hidden_size, eps=eps) if c.use_mean_pooling else None
        self.classifier = (
            nn.Linear(c.hidden_size, c.num_labels) if c.num_labels > 0 else nn.Identity()
        )
        self.post_init()

    def pool(self, hidden: torch.Tensor) -> torch.Tensor:
        """(B, N, D) -> (B, D): the video-level feature the head sees."""
        if self.fc_norm is not None:
            return self.fc_norm(hidden.mean(dim=1))
        return hidden[:, 0]

    def forward(
        self,
        pixel_values: torch.Tensor,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        interpolate_pos_encoding: bool = False,
        bool_masked_pos: torch.Tensor | None = None,
        **kwargs: Any,
    ) -> ImageClassifierOutput | tuple:
        output_attentions, output_hidden_states, return_dict = self._flags(
            output_attentions, output_hidden_states, return_dict
        )
        enc = self.videomae(
            pixel_values,
            bool_masked_pos=bool_masked_pos,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=True,
            interpolate_pos_encoding=interpolate_pos_encoding,
        )
        logits = self.classifier(self.pool(enc.last_hidden_state))
        loss = None if labels is None else self.loss(logits, labels)
        out = ImageClassifierOutput(
            loss=loss, logits=logits, hidden_states=enc.hidden_states, attentions=enc.attentions
        )
        return out if return_dict else out.to_tuple()

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """transformers' rules: regression (1 label), single-label (int labels), multi-label.

        The problem type is inferred once from the first labels and kept in the config.
        """
        c = self.config
        labels = labels.to(logits.device)
        if c.problem_type is None:
            c.problem_type = infer_problem_type(c.num_labels, labels)
        return classification_loss(logits, labels, c.problem_type, c.num_labels)
