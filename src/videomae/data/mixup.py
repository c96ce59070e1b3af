"""Mixup / CutMix for clip batches with label-smoothed soft targets (timm's batch mode).

Each sample is mixed with its partner in the reversed batch (``x.flip(0)``). CutMix cuts one box
that is the same in every frame of a clip, and lambda is corrected to the exact box area.
"""

from __future__ import annotations

import math

import torch


def smooth_one_hot(labels: torch.Tensor, num_classes: int, smoothing: float = 0.0) -> torch.Tensor:
    """(B,) long -> (B, K) float: ``1 - smoothing + smoothing / K`` on the label, ``smoothing / K``
    elsewhere (rows sum to 1)."""
    if labels.dim() != 1 or labels.dtype not in (
        torch.int64,
        torch.int32,
        torch.int16,
        torch.uint8,
    ):
        raise ValueError(
            f"labels must be a (B,) integer tensor of class ids, got {tuple(labels.shape)} "
            f"{labels.dtype}"
        )
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"smoothing must be in [0, 1), got {smoothing}")
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(
            f"labels must be in [0, {num_classes}), got range [{int(labels.min())}, "
            f"{int(labels.max())}]; check num_classes"
        )
    off = smoothing / num_classes
    on = 1.0 - smoothing + off
    out = torch.full((labels.shape[0], num_classes), off, device=labels.device)
    return out.scatter_(1, labels.long().unsqueeze(1), on)


def cutmix_box(
    height: int, width: int, lam: float, *, generator: torch.Generator | None = None
) -> tuple[int, int, int, int]:
    """(y0, y1, x0, x1) of a box with sides ``sqrt(1 - lam)`` of the frame, centre uniform,
    clipped to the frame (timm's ``rand_bbox``)."""
    ratio = math.sqrt(1.0 - lam)
    cut_h, cut_w = int(height * ratio), int(width * ratio)
    cy = int(torch.randint(0, height, (), generator=generator))
    cx = int(torch.randint(0, width, (), generator=generator))
    y0, y1 = min(max(cy - cut_h // 2, 0), height), min(max(cy + cut_h // 2, 0), height)
    x0, x1 = min(max(cx - cut_w // 2, 0), width), min(max(cx + cut_w // 2, 0), width)
    return y0, y1, x0, x1


def _beta(alpha: float, generator: torch.Generator | None) -> float:
    """Beta(alpha, alpha) as a ratio of two Gamma draws.

    torch's own Beta / Gamma samplers take no generator, so Gamma is drawn here from seeded
    normals and uniforms, keeping mixing reproducible under a ``torch.Generator``.
    """
    a = _gamma(alpha, generator)
    b = _gamma(alpha, generator)
    return a / (a + b) if a + b > 0 else 0.5


def _gamma(alpha: float, generator: torch.Generator | None) -> float:
    """One Gamma(alpha, 1) draw (Marsaglia and Tsang; boosted for alpha < 1)."""
    boost = 1.0
    if alpha < 1.0:
        u = float(torch.rand((), generator=generator))
        boost = u ** (1.0 / alpha)
        alpha += 1.0
    d = alpha - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        x = float(torch.randn((), generator=generator))
        v = (1.0 + c * x) ** 3
        if v <= 0:
            continue
        u = float(torch.rand((), generator=generator))
        if math.log(max(u, 1e-300)) < 0.5 * x * x + d - d * v + d * math.log(v):
            return d * v * boost


class Mixup:
    """Batch-mode Mixup / CutMix on (B, T, C, H, W) clips with (B,) labels -> soft (B, K) targets.

    With probability ``prob`` a batch is mixed; when both alphas are > 0, CutMix is used with
    probability ``switch_prob``, else Mixup. lambda ~ Beta(alpha, alpha); for CutMix it is then
    set to ``1 - box_area / frame_area``. Targets are ``lam * y + (1 - lam) * y.flip(0)`` with
    label-smoothed one-hots. Defaults are the original fine-tuning recipe. The clips are
    modified in place (as timm) and also returned.
    """

    def __init__(
        self,
        mixup_alpha: float = 0.8,
        cutmix_alpha: float = 1.0,
        prob: float = 1.0,
        switch_prob: float = 0.5,
        label_smoothing: float = 0.1,
        *,
        num_classes: int,
    ) -> None:
        if num_classes <= 0:
            raise ValueError(f"num_classes must be positive, got {num_classes}")
        if mixup_alpha < 0 or cutmix_alpha < 0:
            raise ValueError(f"alphas must be >= 0, got {mixup_alpha}, {cutmix_alpha}")
        self.mixup_alpha = mixup_alpha
        self.cutmix_alpha = cutmix_alpha
        self.prob = prob
        self.switch_prob = switch_prob
        self.label_smoothing = label_smoothing
        self.num_classes = num_classes
        self.last_lam = 1.0
        self.last_box: tuple[int, int, int, int] | None = None

    @property
    def enabled(self) -> bool:
        return self.prob > 0 and (self.mixup_alpha > 0 or self.cutmix_alpha > 0)

    def sample_params(self, generator: torch.Generator | None = None) -> tuple[float, bool]:
        """(lam, use_cutmix) for one batch; lam = 1.0 means no mixing."""
        if not self.enabled or float(torch.rand((), generator=generator)) >= self.prob:
            return 1.0, False
        if self.mixup_alpha > 0 and self.cutmix_alpha > 0:
            use_cutmix = float(torch.rand((), generator=generator)) < self.switch_prob
        else:
            use_cutmix = self.cutmix_alpha > 0
        alpha = self.cutmix_alpha if use_cutmix else self.mixup_alpha
        return _beta(alpha, generator), use_cutmix

    def __call__(
        self,
        clips: torch.Tensor,
        labels: torch.Tensor,
        *,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T, C, H, W) float, (B,) long -> (mixed clips, (B, num_classes) soft targets)."""
        if clips.dim() != 5 or not clips.is_floating_point():
            raise ValueError(
                f"clips must be float (B, T, C, H, W), got {tuple(clips.shape)} {clips.dtype}"
            )
        if labels.shape != clips.shape[:1]:
            raise ValueError(
                f"labels must be (B,) = ({clips.shape[0]},), got {tuple(labels.shape)}"
            )
        lam, use_cutmix = self.sample_params(generator)
        self.last_box = None
        if lam < 1.0:
            if use_cutmix:
                h, w = clips.shape[-2:]
                y0, y1, x0, x1 = cutmix_box(h, w, lam, generator=generator)
                partner = clips.flip(0)[..., y0:y1, x0:x1].clone()  # same box, every frame
                clips[..., y0:y1, x0:x1] = partner
                lam = 1.0 - (y1 - y0) * (x1 - x0) / float(h * w)
                self.last_box = (y0, y1, x0, x1)
            else:
                partner = clips.flip(0).mul(1.0 - lam)
                clips.mul_(lam).add_(partner)
        self.last_lam = lam
        y = smooth_one_hot(labels, self.num_classes, self.label_smoothing).to(clips.device)
        targets = y * lam + y.flip(0) * (1.0 - lam)  # (B, K)
        return clips, targets
