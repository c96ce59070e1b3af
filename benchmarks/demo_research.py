"""Research harness: pre-train (transformers VideoMAE) on in-memory synthetic clips, then
linear-probe + fine-tune pretrained vs scratch on a few labels, report VAL accuracy.
Everything logged as one JSON line to results/demo_research.jsonl and a markdown row to
results/demo_research.md (the regime search behind docs/demo.md; uses transformers' classes, the
same math as the package's)."""

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from transformers import VideoMAEConfig, VideoMAEForPreTraining, VideoMAEForVideoClassification
from transformers.utils import logging as hf_logging

from videomae.data.synthetic import ACTIONS, generate_clips

hf_logging.set_verbosity_error()
HERE = os.path.dirname(os.path.abspath(__file__))
MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 1, 3, 1, 1)

p = argparse.ArgumentParser()
p.add_argument("--tag", default="run")
p.add_argument("--seed", type=int, default=0)
p.add_argument("--threads", type=int, default=2)
# data
p.add_argument("--size", type=int, default=32)
p.add_argument("--frames", type=int, default=8)
p.add_argument("--classes", default="4")  # "4" = 4 directions, "8" = all, or comma names
p.add_argument("--n-unl", type=int, default=2000)
p.add_argument("--n-train", type=int, default=80)
p.add_argument("--n-val", type=int, default=400)
p.add_argument("--background", default="texture")
p.add_argument("--distractors", type=int, default=0)
p.add_argument("--bg-motion", type=float, default=0.0)
p.add_argument("--min-scale", type=float, default=0.14)
p.add_argument("--max-scale", type=float, default=0.24)
p.add_argument("--split-eval", default="val")
# model
p.add_argument("--patch", type=int, default=4)
p.add_argument("--tubelet", type=int, default=2)
p.add_argument("--hidden", type=int, default=128)
p.add_argument("--layers", type=int, default=4)
p.add_argument("--heads", type=int, default=4)
p.add_argument("--dec-hidden", type=int, default=64)
p.add_argument("--dec-layers", type=int, default=2)
p.add_argument("--dec-heads", type=int, default=4)
# pretrain
p.add_argument("--mask", type=float, default=0.9)
p.add_argument("--masking", default="tube")
p.add_argument("--normpix", type=int, default=0)
p.add_argument("--pt-steps", type=int, default=600)
p.add_argument("--pt-bs", type=int, default=32)
p.add_argument("--pt-lr", type=float, default=1.5e-3)
p.add_argument("--pt-warmup", type=int, default=60)
p.add_argument("--pt-wd", type=float, default=0.05)
# finetune
p.add_argument("--ft", type=int, default=1)
p.add_argument("--ft-epochs", type=int, default=40)
p.add_argument("--ft-bs", type=int, default=16)
p.add_argument("--ft-lr", type=float, default=1e-3)
p.add_argument("--scratch-lr", type=float, default=None)
p.add_argument("--scratch", type=int, default=1)  # 0: skip the scratch row (same seed = same row)
p.add_argument("--ft-warmup-frac", type=float, default=0.1)
p.add_argument("--layer-decay", type=float, default=0.75)
p.add_argument("--ft-wd", type=float, default=0.05)
p.add_argument("--smoothing", type=float, default=0.1)
p.add_argument("--shift-aug", type=int, default=0)  # random translation (pixels) in fine-tuning
p.add_argument("--probe", type=int, default=1)
p.add_argument("--probe-every", type=int, default=0)
p.add_argument("--save", default="")
p.add_argument("--load", default="")
args = p.parse_args()

torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)
np.random.seed(args.seed)
if args.classes == "4":
    classes = list(ACTIONS[:4])
elif args.classes == "8":
    classes = list(ACTIONS)
else:
    classes = args.classes.split(",")
style = dict(
    background=args.background,
    num_distractors=args.distractors,
    background_motion=args.bg_motion,
    min_scale=args.min_scale,
    max_scale=args.max_scale,
)
T0 = time.time()


def data(n, split):
    kw = dict(num_frames=args.frames, size=args.size, seed=args.seed, split=split, classes=classes)
    x, y = generate_clips(n, **kw, **style)
    return torch.from_numpy(x), torch.from_numpy(y)


def to_pixels(x_uint8):  # (B, T, H, W, 3) uint8 -> (B, T, 3, H, W) normalised float
    x = x_uint8.permute(0, 1, 4, 2, 3).float().div_(255.0)
    return (x - MEAN) / STD


t = time.time()
x_unl, _ = data(args.n_unl, "unlabeled") if args.n_unl else (None, None)
x_tr, y_tr = data(args.n_train, "train")
x_va, y_va = data(args.n_val, args.split_eval)
t_data = time.time() - t

cfg = VideoMAEConfig(
    image_size=args.size,
    patch_size=args.patch,
    num_channels=3,
    num_frames=args.frames,
    tubelet_size=args.tubelet,
    hidden_size=args.hidden,
    num_hidden_layers=args.layers,
    num_attention_heads=args.heads,
    intermediate_size=4 * args.hidden,
    decoder_hidden_size=args.dec_hidden,
    decoder_num_hidden_layers=args.dec_layers,
    decoder_num_attention_heads=args.dec_heads,
    decoder_intermediate_size=4 * args.dec_hidden,
    norm_pix_loss=bool(args.normpix),
    use_mean_pooling=True,
    num_labels=len(classes),
    layer_norm_eps=1e-6,
)
hp, wp = args.size // args.patch, args.size // args.patch
tp = args.frames // args.tubelet
N = tp * hp * wp


def make_mask(b, g):
    if args.masking == "tube":
        per = hp * wp
        k = int(round(args.mask * per))
        noise = torch.rand(b, per, generator=g)
        ids = noise.argsort(1)[:, :k]
        m = torch.zeros(b, per, dtype=torch.bool)
        m.scatter_(1, ids, True)
        return m.repeat(1, tp)
    k = int(round(args.mask * N))
    ids = torch.rand(b, N, generator=g).argsort(1)[:, :k]
    m = torch.zeros(b, N, dtype=torch.bool)
    m.scatter_(1, ids, True)
    return m


def cosine(step, total, warmup, base):
    if step < warmup:
        return base * (step + 1) / warmup
    return base * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


@torch.no_grad()
def features(enc, x, bs=100):
    enc.eval()
    out = []
    for i in range(0, len(x), bs):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            h = enc(pixel_values=to_pixels(x[i : i + bs])).last_hidden_state
        out.append(h.float().mean(1))
    return torch.cat(out)


def linear_probe(ftr, fva):
    mu, sd = ftr.mean(0), ftr.std(0) + 1e-6
    ftr, fva = (ftr - mu) / sd, (fva - mu) / sd
    best = None
    for wd in (1e-3, 1e-2, 1e-1):
        torch.manual_seed(0)
        lin = torch.nn.Linear(ftr.shape[1], len(classes))
        o = torch.optim.LBFGS(lin.parameters(), max_iter=200, line_search_fn="strong_wolfe")

        def closure(o=o, lin=lin, wd=wd):  # bind this iteration's optimiser, layer and decay
            o.zero_grad()
            loss_ = F.cross_entropy(lin(ftr), y_tr) + wd * lin.weight.pow(2).sum()
            loss_.backward()
            return loss_

        o.step(closure)
        acc = (lin(fva).argmax(1) == y_va).float().mean().item()
        best = acc if best is None else max(best, acc)  # note: best over 3 wd (diagnostic)
    return best


res = dict(vars(args))
res["classes_list"] = classes
res["tokens"] = N
pt_model = None
if args.load:
    pt_model = VideoMAEForPreTraining(cfg)
    pt_model.load_state_dict(torch.load(args.load, weights_only=True))
elif args.pt_steps > 0:
    pt_model = VideoMAEForPreTraining(cfg)
    decay = [p_ for n_, p_ in pt_model.named_parameters() if p_.ndim > 1 and "embeddings" not in n_]
    nodecay = [
        p_ for n_, p_ in pt_model.named_parameters() if not (p_.ndim > 1 and "embeddings" not in n_)
    ]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.pt_wd}, {"params": nodecay, "weight_decay": 0.0}],
        lr=args.pt_lr,
        betas=(0.9, 0.95),
    )
    g = torch.Generator().manual_seed(args.seed)
    losses = []
    t = time.time()
    perm = torch.randperm(len(x_unl), generator=g)
    pos = 0
    pt_model.train()
    for step in range(args.pt_steps):
        if pos + args.pt_bs > len(perm):
            perm = torch.randperm(len(x_unl), generator=g)
            pos = 0
        idx = perm[pos : pos + args.pt_bs]
        pos += args.pt_bs
        pix = to_pixels(x_unl[idx])
        m = make_mask(len(idx), g)
        for gr in opt.param_groups:
            gr["lr"] = cosine(step, args.pt_steps, args.pt_warmup, args.pt_lr)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = pt_model(pixel_values=pix, bool_masked_pos=m).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(pt_model.parameters(), 1.0)  # hedge; original: none
        opt.step()
        losses.append(loss.item())
        if args.probe_every and (step + 1) % args.probe_every == 0 and step + 1 < args.pt_steps:
            pr = linear_probe(features(pt_model.videomae, x_tr), features(pt_model.videomae, x_va))
            res.setdefault("probe_curve", []).append((step + 1, round(pr, 4)))
            print("probe@", step + 1, pr, flush=True)
            if args.save:
                torch.save(pt_model.state_dict(), args.save.replace(".pt", f"_{step + 1}.pt"))
            pt_model.train()
        if step % 50 == 0 or step == args.pt_steps - 1:
            print(
                f"pt step {step} loss {np.mean(losses[-50:]):.4f} {time.time() - t:.0f}s",
                flush=True,
            )
    res["t_pretrain"] = time.time() - t
    res["pt_loss_first"] = float(np.mean(losses[:20]))
    res["pt_loss_last"] = float(np.mean(losses[-50:]))
    if args.save:
        torch.save(pt_model.state_dict(), args.save)


def classifier_from(pt):
    clf = VideoMAEForVideoClassification(cfg)
    if pt is not None:
        sd = {k: v for k, v in pt.state_dict().items() if k.startswith("videomae.")}
        missing, unexpected = clf.load_state_dict(sd, strict=False)
        assert all(not k.startswith("videomae.") for k in missing), missing
    return clf


def finetune(clf, lr):
    nl = args.layers
    groups = {}
    for n_, p_ in clf.named_parameters():
        if n_.startswith("videomae.embeddings"):
            lid = 0
        elif n_.startswith("videomae.encoder.layer."):
            lid = int(n_.split(".")[3]) + 1
        else:
            lid = nl + 1
        scale = args.layer_decay ** (nl + 1 - lid)
        wd = 0.0 if (p_.ndim == 1 or "embeddings" in n_) else args.ft_wd
        groups.setdefault((lid, wd), {"params": [], "weight_decay": wd, "scale": scale})
        groups[(lid, wd)]["params"].append(p_)
    opt = torch.optim.AdamW(list(groups.values()), lr=lr, betas=(0.9, 0.999))
    steps_per_epoch = math.ceil(len(x_tr) / args.ft_bs)
    total = args.ft_epochs * steps_per_epoch
    warm = int(args.ft_warmup_frac * total)
    g = torch.Generator().manual_seed(args.seed + 1)
    step = 0
    curve = []
    for ep in range(args.ft_epochs):
        clf.train()
        perm = torch.randperm(len(x_tr), generator=g)
        for i in range(0, len(perm), args.ft_bs):
            idx = perm[i : i + args.ft_bs]
            x = x_tr[idx]
            if args.shift_aug:
                s = args.shift_aug
                dy, dx = torch.randint(-s, s + 1, (2,), generator=g).tolist()
                x = torch.roll(x, shifts=(dy, dx), dims=(2, 3))
            for gr in opt.param_groups:
                gr["lr"] = cosine(step, total, warm, lr) * gr["scale"]
            with torch.autocast("cpu", dtype=torch.bfloat16):
                logits = clf(pixel_values=to_pixels(x)).logits
            loss = F.cross_entropy(logits.float(), y_tr[idx], label_smoothing=args.smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
        if (ep + 1) % max(1, args.ft_epochs // 4) == 0 or ep == args.ft_epochs - 1:
            curve.append((ep + 1, round(evaluate(clf), 4), round(loss.item(), 3)))
    return curve


@torch.no_grad()
def evaluate(clf, bs=100):
    clf.eval()
    correct = 0
    for i in range(0, len(x_va), bs):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            lg = clf(pixel_values=to_pixels(x_va[i : i + bs])).logits
        correct += (lg.argmax(1) == y_va[i : i + bs]).sum().item()
    return correct / len(x_va)


if args.probe:
    t = time.time()
    torch.manual_seed(args.seed)
    rand_enc = VideoMAEForVideoClassification(cfg).videomae
    res["probe_random"] = linear_probe(features(rand_enc, x_tr), features(rand_enc, x_va))
    if pt_model is not None:
        enc = pt_model.videomae
        res["probe_pretrained"] = linear_probe(features(enc, x_tr), features(enc, x_va))
    res["t_probe"] = time.time() - t
    print("probe", res.get("probe_pretrained"), res["probe_random"], flush=True)

if args.ft and pt_model is not None:
    t = time.time()
    torch.manual_seed(args.seed)
    clf = classifier_from(pt_model)
    res["curve_pretrained"] = finetune(clf, args.ft_lr)
    res["acc_pretrained"] = res["curve_pretrained"][-1][1]
    res["t_ft_pretrained"] = time.time() - t
    print("ft pretrained", res["curve_pretrained"], flush=True)
if args.ft and args.scratch:
    t = time.time()
    torch.manual_seed(args.seed)
    clf = classifier_from(None)
    ld = args.layer_decay
    args.layer_decay = 1.0  # scratch: no layer decay
    res["curve_scratch"] = finetune(clf, args.scratch_lr or args.ft_lr)
    args.layer_decay = ld
    res["acc_scratch"] = res["curve_scratch"][-1][1]
    res["t_ft_scratch"] = time.time() - t
    print("ft scratch", res["curve_scratch"], flush=True)

res["t_data"] = t_data
res["t_total"] = time.time() - T0
res["load1"] = os.getloadavg()[0]
with open(os.path.join(HERE, "results", "demo_research.jsonl"), "a") as f:
    f.write(json.dumps(res) + "\n")
short = {
    k: (round(v, 3) if isinstance(v, float) else v)
    for k, v in res.items()
    if k.startswith(("acc", "probe", "t_", "pt_loss"))
}
with open(os.path.join(HERE, "results", "demo_research.md"), "a") as f:
    f.write(f"- `{args.tag}` `{' '.join(sys.argv[1:])}` -> {json.dumps(short)}\n")
print(json.dumps(short))
