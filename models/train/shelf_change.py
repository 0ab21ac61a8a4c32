#!/usr/bin/python3
"""Trains the shelf-change model: from the crop of one tray before a load-cell event and after
it, a small CNN says what changed -- a unit `appeared`, `disappeared`, or `none` -- and embeds
the unit that changed into a 64-d unit vector, so the product is named by the nearest catalogue
embedding (cosine) and a SKU HQ adds later needs only its catalogue pairs, not retraining.

Data: before/after tray crops the simulator renders (simulators/src/vision/shelf-change-dataset.ts).
Training classes are the SKUs of the training export; held-out SKUs are never in it (the
script refuses an export that has one). The validation export (another seed, the whole store
catalogue) is only measured, never trained on or used to pick a checkpoint: the last step is
exported.

Loss: cross-entropy on the change kind, plus CosFace (Wang et al. 2018, arXiv:1801.09414) on
the embedding over the training SKUs for pairs where something changed; the CosFace weights are
thrown away. A pair played backwards is a pair too (appeared <-> disappeared, same SKU), so
half of each batch is reversed.

Output: models/shelf-change/shelf-change.onnx, manifest.json and MODEL_CARD.md.
Needs Debian's python3-torch (torch 1.13): /usr/bin/python3 models/train/shelf_change.py
"""

import argparse
import csv
import datetime
import hashlib
import json
import math
import os
import subprocess
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

NAME = "shelf-change"
VERSION = "1.3.0"
KINDS = ["appeared", "disappeared", "none"]
EMBEDDING = 64
CHANNELS = 96
HEADS = 4
# The embedding's own branch (from 1.2.0): channels of its three convolutions (40 x 40, then 20 x 20 twice).
BRANCH = (32, 96, 128)
MEAN = 0.5
STD = 0.25
SCALE = 20.0
MARGIN = 0.25
KIND_WEIGHT = 3.0
# The SKU (CosFace) loss weight: 1 while the kind settles, then raised linearly to SKU_WEIGHT_END
# between these shares of the run (from 1.2.0).
SKU_WEIGHT_END = 2.0
SKU_WEIGHT_RAMP = (0.3, 0.6)
# Training event pairs where a passing shopper covers more than this share of the tray's crop in
# either frame are left out (what changed is not in the pixels); the test scores the same way.
MAX_HIDDEN_SHARE = 0.5
# Gain matching: a pixel counts as unchanged when its after frame, gain-matched, differs from the
# before frame by less than about this (sum over RGB, 0-1 scale).
GAIN_TOLERANCE = 0.15
# Classification runs each pair forwards and played backwards (after, then before) and combines
# them: the kind from the sum of the log-softmaxes (appeared/disappeared swapped back), the
# embedding the normalised sum -- as the gallery is built. The manifest says so
# (`inference.playedBothWays`) and models/src/shelf-change.ts does the same.
PLAYED_BOTH_WAYS = True


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, "..", ".."))
    p.add_argument("--train", default="/tmp/shelfchange/train", help="training export (shelf-change-dataset.ts --split train); several, comma-separated, are trained on together (each its own seed)")
    p.add_argument("--val", default="/tmp/shelfchange/val", help="validation export (--split heldout, another seed)")
    p.add_argument("--out", default=os.path.join(root, "models/shelf-change"))
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--minutes", type=float, default=0.0, help="train for this wall-clock budget instead of --epochs: the one-cycle schedule (and the SKU loss ramp) follows the share of the budget spent, and training stops when it is spent (on a shared machine the epochs one can afford are not known in advance)")
    p.add_argument("--threads", type=int, default=0, help="torch threads; 0: 1 while the recogniser's training or export runs, else 2")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--remeasure", default="", help="measure the checkpoint next to this record (shelf-change-record.json) on --val again and rewrite --out's manifest metrics and card (after a change to classification only)")
    p.add_argument("--rewrite-card", default="", help="only write MODEL_CARD.md again from the record (shelf-change-record.json) a training run saved")
    p.add_argument("--eval-every", type=int, default=2, help="measure the validation export every N epochs (and after the last); never used to pick anything")
    p.add_argument("--limit", type=int, default=0, help="use only this many training pairs (smoke runs)")
    p.add_argument("--init", default="", help="continue from a checkpoint this script saved (model and CosFace weights), with a new learning-rate cycle")
    p.add_argument("--init-onnx", default="", help="start from the weights of a model this script exported (e.g. the committed shelf-change.onnx, when its checkpoint is gone): batch norm was folded into the convolutions on export, so each one is re-split from the convolution's output statistics on training pairs (the network computes what the ONNX does), and the CosFace weights start as each training SKU's mean embedding")
    p.add_argument("--init-version", default="", help="the version of the --init or --init-onnx model (for the manifest and card)")
    p.add_argument("--previous-seeds", default="", help="training seeds of the --init or --init-onnx model, comma-separated (listed in the manifest's trainSeeds, which a test must avoid)")
    p.add_argument("--previous-epochs", type=float, default=0, help="epochs the --init checkpoint was trained for (for the manifest and card)")
    p.add_argument("--previous-minutes", type=float, default=0.0, help="minutes the --init checkpoint took (for the manifest and card)")
    return p.parse_args()


def load_export(directory):
    """pairs (N, 2, size, size, 3) uint8, label rows, and the dataset description."""
    with open(os.path.join(directory, "dataset.json")) as f:
        description = json.load(f)
    with open(os.path.join(directory, "labels.csv")) as f:
        rows = list(csv.DictReader(f))
    size = description["sizePx"]
    pairs = np.fromfile(os.path.join(directory, "pairs.u8"), dtype=np.uint8).reshape(-1, 2, size, size, 3)
    if len(pairs) != len(rows):
        raise SystemExit(f"{directory}: {len(pairs)} pairs but {len(rows)} label rows")
    return pairs, rows, description


def to_input(pairs):
    """uint8 (n, 2, H, W, 3) -> float32 (n, 6, H, W): before RGB then after RGB, normalised as the manifest says."""
    x = torch.from_numpy(np.ascontiguousarray(pairs)).permute(0, 1, 4, 2, 3).float()
    x = x.reshape(x.shape[0], 6, x.shape[3], x.shape[4])
    return (x / 255.0 - MEAN) / STD


def conv(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class ShelfChange(nn.Module):
    """(n, 6, S, S) before/after pair -> (kind logits (n, 3), embedding (n, 64) unit vectors).
    The difference after - before is computed inside and stacked with both frames (9 channels).
    Trunk: six 3 x 3 convolutions, the first at full resolution (a flavour's stripe is 1-3 px),
    then stride 2 three times (80 -> 10 px); the kind from its mean- and max-pooled features.
    The embedding has its own branch besides (from 1.2.0): three 3 x 3 convolutions on the same
    9 channels down to 20 x 20 (four times the trunk's cells), attention-pooled (HEADS softmax
    maps) with a learned bias towards the cells where the frames differ (log of the pooled
    |after - before|), so it looks at the unit that changed rather than the row behind it; its
    pooled features and the trunk's attention-pooled ones go through one linear layer and L2
    normalisation."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(conv(9, 16, 1), conv(16, 32, 2), conv(32, 48, 2), conv(48, 64, 1), conv(64, CHANNELS, 2), conv(CHANNELS, CHANNELS, 1))
        self.kind = nn.Sequential(nn.Linear(2 * CHANNELS, 64), nn.ReLU(inplace=True), nn.Linear(64, len(KINDS)))
        self.attention = nn.Conv2d(CHANNELS, HEADS, 1)
        a, b, c = BRANCH
        self.branch = nn.Sequential(conv(9, a, 2), conv(a, b, 2), conv(b, c, 1))
        self.branch_attention = nn.Conv2d(c, HEADS, 1)
        self.difference_bias = nn.Parameter(torch.ones(1, HEADS, 1, 1))
        self.embed = nn.Linear((CHANNELS + c) * HEADS, EMBEDDING)

    def forward(self, x):
        before, after = x[:, :3], match_gain(x[:, :3], x[:, 3:])
        stack = torch.cat([before, after, after - before], dim=1)
        features = self.features(stack)
        flat = features.flatten(2)  # n x C x cells
        kind = self.kind(torch.cat([flat.mean(dim=2), flat.amax(dim=2)], dim=1))
        weights = torch.softmax(self.attention(features).flatten(2), dim=2)  # n x HEADS x cells
        pooled = torch.bmm(weights, flat.transpose(1, 2))  # n x HEADS x C
        branch = self.branch(stack)  # n x c x 20 x 20
        difference = F.avg_pool2d((after - before).abs().sum(dim=1, keepdim=True), 4)  # the branch strides 2 twice
        logits = self.branch_attention(branch) + self.difference_bias * torch.log(difference + 0.05)
        branch_weights = torch.softmax(logits.flatten(2), dim=2)
        branch_pooled = torch.bmm(branch_weights, branch.flatten(2).transpose(1, 2))  # n x HEADS x c
        return kind, F.normalize(self.embed(torch.cat([pooled.flatten(1), branch_pooled.flatten(1)], dim=1)), dim=1)


def read_onnx(path):
    """Initializers (name -> numpy array) and nodes (op, inputs) of an ONNX file, read with a minimal
    protobuf reader (Debian's python3 has no onnx package): ModelProto.graph (7), GraphProto.node (1)
    and .initializer (5); TensorProto dims (1), data_type (2), float_data (4), name (8), raw_data (9)."""

    def varint(b, i):
        r = shift = 0
        while True:
            c = b[i]
            i += 1
            r |= (c & 0x7F) << shift
            shift += 7
            if c < 0x80:
                return r, i

    def fields(b):
        i, out = 0, []
        while i < len(b):
            key, i = varint(b, i)
            number, wire = key >> 3, key & 7
            if wire == 0:
                value, i = varint(b, i)
            elif wire == 1:
                value, i = b[i : i + 8], i + 8
            elif wire == 5:
                value, i = b[i : i + 4], i + 4
            elif wire == 2:
                n, i = varint(b, i)
                value, i = b[i : i + n], i + n
            else:
                raise ValueError(f"{path}: protobuf wire type {wire}")
            out.append((number, wire, value))
        return out

    with open(path, "rb") as f:
        graph = [v for n, _, v in fields(f.read()) if n == 7][0]
    initializers, nodes = {}, []
    for number, _, value in fields(graph):
        if number == 5:
            dims, name, raw, floats, dtype = [], "", None, [], 1
            for n, wire, v in fields(value):
                if n == 1 and wire == 0:
                    dims.append(v)
                elif n == 1:
                    j = 0
                    while j < len(v):
                        d, j = varint(v, j)
                        dims.append(d)
                elif n == 2:
                    dtype = v
                elif n == 4:
                    floats += list(np.frombuffer(v, dtype="<f4"))
                elif n == 8:
                    name = v.decode()
                elif n == 9:
                    raw = v
            if dtype != 1:
                continue  # only float weights are needed
            array = np.frombuffer(raw, dtype="<f4").copy() if raw is not None else np.array(floats, dtype=np.float32)
            initializers[name] = array.reshape(dims)
        elif number == 1:
            op, inputs = "", []
            for n, _, v in fields(value):
                if n == 1:
                    inputs.append(v.decode())
                elif n == 4:
                    op = v.decode()
            nodes.append((op, inputs))
    return initializers, nodes


@torch.no_grad()
def init_from_onnx(model, head, path, pairs, skus, generator):
    """Loads an exported model's weights. torch's ONNX export folds each batch norm into the
    convolution before it (W' = W g / s, b' = beta - m g / s), which cannot be undone; so each
    conv + batch norm block gets W' and a batch norm that adds b' to the statistics of W' x on
    training pairs: running mean m, variance v, g = sqrt(v + eps), beta = b' + m. In eval mode the
    network then computes exactly what the ONNX does; in training mode (batch statistics) nearly.
    The CosFace weights start as each training SKU's mean embedding (changed pairs)."""
    initializers, nodes = read_onnx(path)
    convs = {}
    for op, inputs in nodes:
        if op == "Conv" and len(inputs) == 3 and inputs[1] in initializers:
            convs.setdefault(tuple(initializers[inputs[1]].shape), []).append((initializers[inputs[1]], initializers[inputs[2]]))
    blocks = [block for block in list(model.features) + list(model.branch)]
    for block in blocks:
        weight, bias = convs[tuple(block[0].weight.shape)].pop(0)
        block[0].weight.copy_(torch.from_numpy(weight))
        bn = block[1]
        bn.running_mean.zero_()
        bn.running_var.fill_(1 - bn.eps)
        bn.weight.fill_(1)
        bn.bias.copy_(torch.from_numpy(bias))
    state = model.state_dict()
    for name in ["kind.0.weight", "kind.0.bias", "kind.2.weight", "kind.2.bias", "attention.weight", "attention.bias",
                 "branch_attention.weight", "branch_attention.bias", "difference_bias", "embed.weight", "embed.bias"]:
        if tuple(initializers[name].shape) != tuple(state[name].shape):
            raise SystemExit(f"{path}: {name} has shape {initializers[name].shape}, the network {tuple(state[name].shape)}")
        state[name].copy_(torch.from_numpy(initializers[name]))
    # The statistics of each convolution's output (before its bias) on training pairs, in eval mode.
    sample = torch.randperm(len(pairs), generator=generator)[:1024].sort().values.numpy()
    outputs = {}
    hooks = [block[0].register_forward_hook(lambda m, i, o, k=k: outputs.setdefault(k, []).append(o.detach())) for k, block in enumerate(blocks)]
    model.eval()
    for i in range(0, len(sample), 256):
        model(to_input(pairs[sample[i : i + 256]]))
    for h in hooks:
        h.remove()
    for k, block in enumerate(blocks):
        y = torch.cat(outputs[k]).transpose(0, 1).flatten(1)
        mean, var = y.mean(dim=1), y.var(dim=1)
        bn = block[1]
        bn.running_mean.copy_(mean)
        bn.running_var.copy_(var)
        bn.weight.copy_((var + bn.eps).sqrt())
        bn.bias.add_(mean)
    # CosFace weights: the mean embedding of each SKU's changed pairs (up to 12 each).
    changed = (skus >= 0).nonzero().flatten()
    changed = changed[torch.randperm(len(changed), generator=generator)]
    chosen, counts = [], {}
    for i in changed.tolist():
        c = int(skus[i])
        if counts.get(c, 0) < 12:
            counts[c] = counts.get(c, 0) + 1
            chosen.append(i)
    chosen = np.array(sorted(chosen))
    _, embeddings = run_all(model, pairs[chosen])
    sums = torch.zeros_like(head.weight)
    sums.index_add_(0, skus[chosen], embeddings)
    missing = sums.norm(dim=1) == 0
    head.weight.copy_(torch.where(missing[:, None], head.weight, F.normalize(sums, dim=1)))
    print(f"initialised from {path}: {len(blocks)} conv + batch norm blocks re-split, CosFace weights from {len(chosen)} pairs ({int(missing.sum())} SKUs without one)", flush=True)


def one_cycle(progress, max_lr):
    """The learning rate at `progress` (0-1) of the run: torch's OneCycleLR shape (cosine from
    max_lr / 25 up to max_lr over the first 15 %, then cosine down to max_lr / 25 / 1e4)."""
    initial, final, warm = max_lr / 25, max_lr / 25 / 1e4, 0.15
    if progress < warm:
        return initial + (max_lr - initial) * (1 - math.cos(math.pi * progress / warm)) / 2
    return final + (max_lr - final) * (1 + math.cos(math.pi * min(1.0, (progress - warm) / (1 - warm)))) / 2


def sku_weight(progress):
    lo, hi = SKU_WEIGHT_RAMP
    return 1.0 + (SKU_WEIGHT_END - 1.0) * min(1.0, max(0.0, (progress - lo) / (hi - lo)))


def match_gain(before, after):
    """The after frame (normalised input) with each channel's gain matched to the before frame's:
    each frame draws its own exposure and colour cast (a gain per channel), which otherwise
    dominates after - before. The gain is the ratio of the frames' channel means, first over the
    whole crop, then again over the pixels that look unchanged under that first gain (weighted by
    exp(-(difference / GAIN_TOLERANCE)^2)), so the unit that changed counts little. Clamped to
    0.5-2. Part of the network, so the ONNX export does it too."""
    b = before * STD + MEAN
    a = after * STD + MEAN
    gain = (b.mean(dim=(2, 3), keepdim=True) + 1e-3) / (a.mean(dim=(2, 3), keepdim=True) + 1e-3)
    gain = gain.clamp(0.5, 2.0)
    difference = (a * gain - b).abs().sum(dim=1, keepdim=True)
    w = torch.exp(-(difference / GAIN_TOLERANCE) ** 2) + 1e-4
    gain = ((b * w).sum(dim=(2, 3), keepdim=True) + 1e-3) / ((a * w).sum(dim=(2, 3), keepdim=True) + 1e-3)
    gain = gain.clamp(0.5, 2.0)
    return (a * gain - MEAN) / STD


class CosFace(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(classes, EMBEDDING) * 0.01)

    def forward(self, embedding, labels):
        cosine = embedding @ F.normalize(self.weight, dim=1).t()
        margin = F.one_hot(labels, cosine.shape[1]).float() * MARGIN
        return F.cross_entropy(SCALE * (cosine - margin), labels)


def augment(x, generator):
    """Batched augmentation on normalised pairs: one shift and scale for both frames (the camera
    and the crop square are fixed, so before and after stay aligned; the shift stands for
    calibration error), and per frame exposure and white balance, contrast, a little blur and
    sensor noise (each frame draws its own light). No flips, no hue changes."""
    n, size = x.shape[0], x.shape[-1]

    def u(lo, hi, *shape):
        return torch.rand(*shape, generator=generator) * (hi - lo) + lo

    scale = u(0.92, 1.08, n)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = scale
    theta[:, 1, 1] = scale
    theta[:, :, 2] = u(-0.08, 0.08, n, 2)
    grid = F.affine_grid(theta, [n, 6, size, size], align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)

    frames = x.reshape(n * 2, 3, size, size) * STD + MEAN
    m = n * 2
    gain = u(0.88, 1.12, m, 1, 1, 1) * u(0.96, 1.04, m, 3, 1, 1)
    mean = frames.mean(dim=(1, 2, 3), keepdim=True)
    frames = (frames - mean) * u(0.88, 1.12, m, 1, 1, 1) + mean
    frames = frames * gain
    blurred = F.avg_pool2d(F.pad(frames, (1, 1, 1, 1), mode="replicate"), 3, 1)
    blur = (torch.rand(m, 1, 1, 1, generator=generator) < 0.1).float() * u(0.2, 0.5, m, 1, 1, 1)
    frames = frames * (1 - blur) + blurred * blur
    frames = frames + torch.randn(frames.shape, generator=generator) * u(0, 0.012, m, 1, 1, 1)
    return ((frames.clamp(0, 1) - MEAN) / STD).reshape(n, 6, size, size)


def reverse(x, kinds, swap):
    """Plays the pairs where `swap` is set backwards: after becomes before, and appeared <-> disappeared."""
    x = x.clone()
    x[swap] = torch.cat([x[swap][:, 3:], x[swap][:, :3]], dim=1)
    flipped = kinds.clone()
    flipped[swap & (kinds == 0)] = 1
    flipped[swap & (kinds == 1)] = 0
    return x, flipped


@torch.no_grad()
def run_all(model, pairs, batch=256):
    model.eval()
    kinds, embeddings = [], []
    for i in range(0, len(pairs), batch):
        k, e = model(to_input(pairs[i : i + batch]))
        kinds.append(k)
        embeddings.append(e)
    return torch.cat(kinds), torch.cat(embeddings)


@torch.no_grad()
def evaluate(model, pairs, rows, description):
    """Shelf-change accuracy (kind right and, when something changed, the SKU right against a
    gallery of every store SKU), by group. Gallery: the normalised mean embedding of each SKU's
    catalogue pairs, played forwards (appeared) and backwards (disappeared)."""
    held_out = {s["sku"] for s in description["skus"] if s["heldOut"]}
    family = {s["sku"]: s["family"] for s in description["skus"]}
    gallery_idx = [i for i, r in enumerate(rows) if r["source"] == "gallery"]
    gallery_pairs = pairs[gallery_idx]
    _, forward = run_all(model, gallery_pairs)
    _, backward = run_all(model, gallery_pairs[:, ::-1])
    gallery_skus = sorted({rows[i]["sku"] for i in gallery_idx})
    index = {sku: j for j, sku in enumerate(gallery_skus)}
    gallery = torch.zeros(len(gallery_skus), EMBEDDING)
    for n, i in enumerate(gallery_idx):
        gallery[index[rows[i]["sku"]]] += forward[n] + backward[n]
    gallery = F.normalize(gallery, dim=1)

    queries = [i for i, r in enumerate(rows) if r["source"] == "event"]
    kind_logits, embeddings = run_all(model, pairs[queries])
    if PLAYED_BOTH_WAYS:
        # Each pair played backwards too: appeared and disappeared swap; the SKU stays.
        back_logits, back_embeddings = run_all(model, pairs[queries][:, ::-1])
        kind_logits = F.log_softmax(kind_logits, dim=1) + F.log_softmax(back_logits[:, [1, 0, 2]], dim=1)
        embeddings = F.normalize(embeddings + back_embeddings, dim=1)
    kinds = kind_logits.argmax(dim=1).tolist()
    skus = (embeddings @ gallery.t()).argmax(dim=1).tolist()
    groups = {g: [0, 0] for g in ["all", "allPairs", "none", "appearedOwn", "disappearedOwn", "appearedForeign", "disappearedForeign", "seenSku", "heldOutSku", "kindOnly", "frontRow", "backRow", "backRowKind"]}
    confusions = {}
    errors = {"kind": 0, "sku": 0, "skuSameFamily": 0}
    for n, i in enumerate(queries):
        r = rows[i]
        kind_right = KINDS[kinds[n]] == r["kind"]
        sku_right = r["kind"] == "none" or gallery_skus[skus[n]] == r["sku"]
        right = int(kind_right and sku_right)
        groups["allPairs"][0] += right
        groups["allPairs"][1] += 1
        if r.get("hiddenShare") and float(r["hiddenShare"]) > MAX_HIDDEN_SHARE:
            continue  # a passing shopper hides the tray: scored in allPairs only, as the test does
        if r.get("unitRow"):
            behind = int(r["unitRow"]) > 0
            g3 = "backRow" if behind else "frontRow"
            groups[g3][0] += right
            groups[g3][1] += 1
            if behind:
                groups["backRowKind"][0] += int(kind_right)
                groups["backRowKind"][1] += 1
        if r["kind"] == "none":
            group = "none"
        else:
            group = r["kind"] + ("Foreign" if r["foreign"] == "1" else "Own")
            g2 = "heldOutSku" if r["sku"] in held_out else "seenSku"
            groups[g2][0] += right
            groups[g2][1] += 1
        for g in ("all", group):
            groups[g][0] += right
            groups[g][1] += 1
        groups["kindOnly"][0] += int(kind_right)
        groups["kindOnly"][1] += 1
        if not kind_right:
            errors["kind"] += 1
            key = (r["kind"], KINDS[kinds[n]])
            confusions[key] = confusions.get(key, 0) + 1
        elif not sku_right:
            errors["sku"] += 1
            predicted = gallery_skus[skus[n]]
            errors["skuSameFamily"] += int(family[predicted] == family[r["sku"]])
            key = (r["sku"], predicted)
            confusions[key] = confusions.get(key, 0) + 1
    return {"groups": groups, "errors": errors, "confusions": sorted(([a, b, c] for (a, b), c in confusions.items()), key=lambda c: -c[2])}


def rate(pair):
    return pair[0] / max(1, pair[1])


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def other_training_running():
    mine = os.getpid()
    try:
        # The recogniser's training, or the export that feeds it (it runs just before).
        out = subprocess.run(["pgrep", "-f", "recogniser.py|vision/dataset.ts"], capture_output=True, text=True).stdout.split()
    except OSError:
        return False
    return any(int(p) != mine for p in out)


def main():
    args = parse_args()
    if args.rewrite_card:
        with open(args.rewrite_card) as f:
            record = json.load(f)
        with open(os.path.join(args.out, "MODEL_CARD.md"), "w") as f:
            f.write(model_card(record["manifest"], record["description"], record["valDescription"], record["result"], record["history"], argparse.Namespace(**record["args"])))
        return
    if args.remeasure:
        remeasure(args)
        return
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    started = time.time()

    def threads():
        n = args.threads or (1 if other_training_running() else 2)
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
            print(f"torch threads: {n}", flush=True)

    threads()
    exports = [load_export(d) for d in args.train.split(",")]
    for d, (_, _, e) in zip(args.train.split(","), exports):
        leaked = [s["sku"] for s in e["skus"] if s["heldOut"]]
        if leaked or e["split"] != "train":
            raise SystemExit(f"{d} is not a training export or holds held-out SKUs: {leaked[:5]}")
        if e["sizePx"] != exports[0][2]["sizePx"] or sorted(s["sku"] for s in e["skus"]) != sorted(s["sku"] for s in exports[0][2]["skus"]):
            raise SystemExit(f"{d}: another crop size or other SKUs than {args.train.split(',')[0]}")
    train_seeds = [e["seed"] for _, _, e in exports]
    if len(set(train_seeds)) != len(train_seeds):
        raise SystemExit(f"two training exports of one seed: {train_seeds}")
    pairs = np.concatenate([p for p, _, _ in exports]) if len(exports) > 1 else exports[0][0]
    rows = [r for _, rs, _ in exports for r in rs]
    description = dict(exports[0][2], seeds=train_seeds, framePairs=sum(e["framePairs"] for _, _, e in exports), framePairsEach=[e["framePairs"] for _, _, e in exports])
    del exports
    previous_seeds = [int(x) for x in args.previous_seeds.split(",") if x]
    val_pairs, val_rows, val_description = load_export(args.val)
    if val_description["seed"] in train_seeds + previous_seeds:
        raise SystemExit("the validation export must come from another seed than the training exports")
    size = description["sizePx"]
    if val_description["sizePx"] != size:
        raise SystemExit("training and validation exports have different crop sizes")

    keep = [i for i, r in enumerate(rows) if not (r.get("hiddenShare") and float(r["hiddenShare"]) > MAX_HIDDEN_SHARE)]
    hidden = len(rows) - len(keep)
    if args.limit:
        keep = sorted(keep[j] for j in torch.randperm(len(keep), generator=generator)[: args.limit].tolist())
    classes = sorted({s["sku"] for s in description["skus"]})
    class_of = {sku: i for i, sku in enumerate(classes)}
    kind_all = torch.tensor([KINDS.index(rows[i]["kind"]) for i in keep])
    sku_all = torch.tensor([class_of[rows[i]["sku"]] if rows[i]["sku"] else -1 for i in keep])
    train_pairs = pairs[keep]
    print(f"training: {len(keep)} pairs ({int((kind_all == 2).sum())} none; {hidden} left out, a passing shopper hides the tray) of {len(classes)} SKUs; validation: {len(val_rows)} pairs", flush=True)

    model = ShelfChange().to(memory_format=torch.channels_last)
    head = CosFace(len(classes))
    if args.init:
        checkpoint = torch.load(args.init)
        if checkpoint["classes"] != classes:
            raise SystemExit(f"{args.init} was trained on other classes")
        model.load_state_dict(checkpoint["model"])
        head.load_state_dict(checkpoint["head"])
        print(f"continuing from {args.init}", flush=True)
    if args.init_onnx:
        init_from_onnx(model, head, args.init_onnx, train_pairs, sku_all, generator)
    parameters = list(model.parameters()) + list(head.parameters())
    optimiser = torch.optim.AdamW(parameters, lr=args.lr, weight_decay=5e-4)
    steps = args.epochs * math.ceil(len(keep) / args.batch)
    budget = args.minutes * 60

    training_started = time.time()

    def progress(step):
        """Share of the run done: of the steps, or with --minutes of the wall-clock budget."""
        return (time.time() - training_started) / budget if budget else step / steps

    history = []
    if args.init or args.init_onnx:
        # Where the run starts (measured only, as every validation figure).
        result = evaluate(model, val_pairs, val_rows, val_description)
        g = result["groups"]
        history.append({"epoch": 0, "kindLoss": None, "skuLoss": None, "accuracy": rate(g["all"]), "kind": rate(g["kindOnly"]), "heldOutSku": rate(g["heldOutSku"])})
        print(f"epoch 0: validation accuracy {history[0]['accuracy']:.3f} (kind {history[0]['kind']:.3f}, never-seen SKUs {history[0]['heldOutSku']:.3f}) ({time.time() - started:.0f} s)", flush=True)
    step, done = 0, False
    for epoch in range(10_000 if budget else args.epochs):
        if done:
            break
        threads()
        model.train()
        order = torch.randperm(len(keep), generator=generator)
        total_kind, total_sku, batches = 0.0, 0.0, 0
        epoch_started = time.time()
        for start in range(0, len(order), args.batch):
            share = progress(step)
            if share >= 1:
                done = True  # the --minutes budget is spent: stop mid-epoch
                break
            for group in optimiser.param_groups:
                group["lr"] = one_cycle(share, args.lr)
            idx = order[start : start + args.batch]
            x = augment(to_input(train_pairs[idx.numpy()]), generator)
            swap = torch.rand(len(idx), generator=generator) < 0.5
            x, kinds = reverse(x, kind_all[idx], swap)
            labels = sku_all[idx]
            kind_logits, embedding = model(x.contiguous(memory_format=torch.channels_last))
            loss_kind = F.cross_entropy(kind_logits, kinds)
            changed = labels >= 0
            loss_sku = head(embedding[changed], labels[changed]) if changed.any() else torch.zeros(())
            loss = KIND_WEIGHT * loss_kind + sku_weight(share) * loss_sku
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            step += 1
            total_kind += loss_kind.item()
            total_sku += loss_sku.item()
            batches += 1
            if epoch == 0 and batches == 50:
                per_epoch = (time.time() - epoch_started) / 50 * math.ceil(len(keep) / args.batch)
                print(f"  ~{per_epoch / 60:.1f} min per epoch at {torch.get_num_threads()} thread(s)", flush=True)
        if batches == 0:
            break
        last = done or progress(step) >= 1 or (not budget and epoch == args.epochs - 1)
        entry = {"epoch": round(epoch + batches / math.ceil(len(keep) / args.batch), 2), "kindLoss": total_kind / batches, "skuLoss": total_sku / batches}
        if epoch % args.eval_every == args.eval_every - 1 or last:
            result = evaluate(model, val_pairs, val_rows, val_description)
            g = result["groups"]
            entry.update({"accuracy": rate(g["all"]), "kind": rate(g["kindOnly"]), "heldOutSku": rate(g["heldOutSku"])})
        history.append(entry)
        extra = f", validation accuracy {entry['accuracy']:.3f} (kind {entry['kind']:.3f}, never-seen SKUs {entry['heldOutSku']:.3f})" if "accuracy" in entry else ""
        print(f"epoch {entry['epoch']}/{'budget' if budget else args.epochs}: lr {one_cycle(min(1.0, progress(step)), args.lr):.2e}, kind loss {entry['kindLoss']:.3f}, sku loss {entry['skuLoss']:.3f}{extra} ({time.time() - started:.0f} s)", flush=True)

    minutes = (time.time() - started) / 60
    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, "shelf-change.onnx")
    model.eval()
    model = model.to(memory_format=torch.contiguous_format)
    torch.onnx.export(
        model,
        torch.zeros(1, 6, size, size),
        onnx_path,
        input_names=["pairs"],
        output_names=["kind", "embedding"],
        dynamic_axes={"pairs": {0: "n"}, "kind": {0: "n"}, "embedding": {0: "n"}},
        opset_version=13,
        do_constant_folding=True,
    )
    torch.save({"model": model.state_dict(), "head": head.state_dict(), "classes": classes}, os.path.join(os.path.dirname(os.path.abspath(args.train.split(",")[0])), "shelf-change-checkpoint.pt"))

    result = evaluate(model, val_pairs, val_rows, val_description)
    g = result["groups"]
    store_seen = sorted(s["sku"] for s in description["skus"] if s["storeCatalog"])
    held_out = sorted(s["sku"] for s in val_description["skus"] if s["heldOut"])
    manifest = {
        "name": NAME,
        "version": VERSION,
        "task": "shelf change: from a tray's crop before and after a load-cell event, the change kind (appeared, disappeared, none) and an embedding of the unit that changed; the SKU is the nearest gallery embedding (catalogue pairs) by cosine",
        "file": "shelf-change.onnx",
        "sha256": sha256(onnx_path),
        "bytes": os.path.getsize(onnx_path),
        "input": {
            "name": "pairs",
            "dtype": "float32",
            "shape": ["n", 6, size, size],
            "layout": "NCHW: channels 0-2 the tray before (RGB), 3-5 the tray after (RGB)",
            "preprocessing": {
                "crop": f"simulators/src/vision/crop.ts cropFrame of SimulatedShelfCamera.trayTarget (the tray from its front row back, its tallest unit, 3 cm margin) scaled to {size} x {size} by sharp",
                "resize": f"sharp resize to {size} x {size} (default kernel, fit cover) when a crop has another size; alpha removed",
                "scale": "value = (pixel / 255 - mean) / std per channel",
                "mean": [MEAN] * 3,
                "std": [STD] * 3,
            },
        },
        "output": {"name": "embedding", "dtype": "float32", "shape": ["n", EMBEDDING], "l2Normalised": True},
        "kindOutput": {"name": "kind", "dtype": "float32", "shape": ["n", len(KINDS)], "logits": True, "labels": KINDS},
        "labels": KINDS,
        "embeddingSize": EMBEDDING,
        "inference": {"playedBothWays": PLAYED_BOTH_WAYS},
        "classification": ("each pair is run forwards and played backwards (after, then before); " if PLAYED_BOTH_WAYS else "")
        + ("kind = argmax of the sum of the two runs' log-softmaxes (appeared and disappeared swapped for the backward run); when not 'none', SKU = highest cosine similarity of the normalised sum of the two embeddings" if PLAYED_BOTH_WAYS else "kind = argmax of the kind logits; when not 'none', SKU = highest cosine similarity of the embedding")
        + " to each SKU's gallery embedding (the L2-normalised mean of the embeddings of its catalogue pairs, played forwards and backwards)",
        "training": {
            "script": "models/train/shelf_change.py",
            "trainSeed": train_seeds[0],
            "trainSeeds": previous_seeds + [x for x in train_seeds if x not in previous_seeds],
            "validationSeed": val_description["seed"],
            "epochs": round(history[-1]["epoch"] + args.previous_epochs, 2),
            "minutes": round(minutes + args.previous_minutes, 1),
            "runs": ([{"epochs": args.previous_epochs, "minutes": args.previous_minutes, "maxLr": "see card"} | ({"version": args.init_version} if args.init_version else {})] if args.init or args.init_onnx else []) + [{"epochs": history[-1]["epoch"], "minutes": round(minutes, 1), "maxLr": args.lr} | ({"budgetMinutes": args.minutes} if args.minutes else {})],
            "pairs": len(keep),
            "leftOutHidden": hidden,
            "kindWeight": KIND_WEIGHT,
            "skuWeight": {"start": 1.0, "end": SKU_WEIGHT_END, "rampShareOfRun": list(SKU_WEIGHT_RAMP)},
            "siblingForeign": description.get("siblingForeign", 0),
            "classes": len(classes),
            "storeSkusSeen": store_seen,
            "trainingOnlySkus": len(classes) - len(store_seen),
            "heldOutSkus": held_out,
        },
        "metrics": {
            "validation": {
                "seed": val_description["seed"],
                "pairs": g["all"][1],
                "scoredOn": f"pairs where a passing shopper hides at most {MAX_HIDDEN_SHARE} of the tray crop in either frame (as the test)",
                "accuracy": round(rate(g["all"]), 4),
                "allPairs": round(rate(g["allPairs"]), 4),
                "frontRowChanges": round(rate(g["frontRow"]), 4),
                "backRowChanges": round(rate(g["backRow"]), 4),
                "kindAccuracy": round(rate(g["kindOnly"]), 4),
                "none": round(rate(g["none"]), 4),
                "appearedOwn": round(rate(g["appearedOwn"]), 4),
                "disappearedOwn": round(rate(g["disappearedOwn"]), 4),
                "appearedForeign": round(rate(g["appearedForeign"]), 4),
                "disappearedForeign": round(rate(g["disappearedForeign"]), 4),
                "seenSkus": round(rate(g["seenSku"]), 4),
                "heldOutSkus": round(rate(g["heldOutSku"]), 4),
            }
        },
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    # Everything the card is written from, so it can be written again (--rewrite-card) without retraining.
    record = {"manifest": manifest, "description": description, "valDescription": val_description, "result": result, "history": history, "args": vars(args)}
    with open(os.path.join(os.path.dirname(os.path.abspath(args.train.split(",")[0])), "shelf-change-record.json"), "w") as f:
        json.dump(record, f)
    with open(os.path.join(args.out, "MODEL_CARD.md"), "w") as f:
        f.write(model_card(manifest, description, val_description, result, history, args))
    print(json.dumps(manifest["metrics"]))
    print("errors:", result["errors"], "confusions (true, predicted, n):", result["confusions"][:20])
    print(f"wrote {onnx_path} ({manifest['bytes']} bytes) in {minutes:.1f} min")


def remeasure(args):
    """After a change to how pairs are classified (not to the model): measure the checkpoint a
    training run saved on the validation export again, check that the committed ONNX is that
    checkpoint's export (same outputs), and rewrite the manifest's classification and metrics,
    the record and the card. The training curve keeps what was measured during training."""
    torch.set_num_threads(args.threads or 1)
    with open(args.remeasure) as f:
        record = json.load(f)
    manifest = record["manifest"]
    checkpoint = torch.load(os.path.join(os.path.dirname(os.path.abspath(args.remeasure)), "shelf-change-checkpoint.pt"))
    model = ShelfChange()
    model.load_state_dict(checkpoint["model"])
    model.eval()
    onnx_path = os.path.join(args.out, manifest["file"])
    if sha256(onnx_path) != manifest["sha256"]:
        raise SystemExit(f"{onnx_path} is not the model of {args.remeasure}")
    val_pairs, val_rows, val_description = load_export(args.val)
    result = evaluate(model, val_pairs, val_rows, val_description)
    g = result["groups"]
    manifest["inference"] = {"playedBothWays": PLAYED_BOTH_WAYS}
    manifest["classification"] = ("each pair is run forwards and played backwards (after, then before); kind = argmax of the sum of the two runs' log-softmaxes (appeared and disappeared swapped for the backward run); when not 'none', SKU = highest cosine similarity of the normalised sum of the two embeddings"
                                  if PLAYED_BOTH_WAYS else "kind = argmax of the kind logits; when not 'none', SKU = highest cosine similarity of the embedding") + " to each SKU's gallery embedding (the L2-normalised mean of the embeddings of its catalogue pairs, played forwards and backwards)"
    v = manifest["metrics"]["validation"]
    v.update({"pairs": g["all"][1], "accuracy": round(rate(g["all"]), 4), "allPairs": round(rate(g["allPairs"]), 4), "frontRowChanges": round(rate(g["frontRow"]), 4),
              "backRowChanges": round(rate(g["backRow"]), 4), "kindAccuracy": round(rate(g["kindOnly"]), 4), "none": round(rate(g["none"]), 4),
              "appearedOwn": round(rate(g["appearedOwn"]), 4), "disappearedOwn": round(rate(g["disappearedOwn"]), 4), "appearedForeign": round(rate(g["appearedForeign"]), 4),
              "disappearedForeign": round(rate(g["disappearedForeign"]), 4), "seenSkus": round(rate(g["seenSku"]), 4), "heldOutSkus": round(rate(g["heldOutSku"]), 4)})
    if "oneWay" not in v:
        before = record["result"]["groups"]
        v["oneWay"] = {"accuracy": round(rate(before["all"]), 4), "kindAccuracy": round(rate(before["kindOnly"]), 4), "appearedForeign": round(rate(before["appearedForeign"]), 4)}
    record["result"] = result
    record["manifest"] = manifest
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    with open(args.remeasure, "w") as f:
        json.dump(record, f)
    with open(os.path.join(args.out, "MODEL_CARD.md"), "w") as f:
        f.write(model_card(manifest, record["description"], record["valDescription"], result, record["history"], argparse.Namespace(**record["args"])))
    print(json.dumps(manifest["metrics"]))


def model_card(manifest, description, val_description, result, history, args):
    size = description["sizePx"]
    v = manifest["metrics"]["validation"]
    t = manifest["training"]
    g = result["groups"]
    mix = description["eventMix"]
    confusions = "\n".join(f"| {a} | {b} | {n} |" for a, b, n in result["confusions"][:12]) or "| – | – | – |"
    curve = "\n".join(
        f"| {h['epoch']} | {'–' if h['kindLoss'] is None else format(h['kindLoss'], '.3f')} | {'–' if h['skuLoss'] is None else format(h['skuLoss'], '.3f')} | {h['accuracy']:.3f} | {h['kind']:.3f} | {h['heldOutSku']:.3f} |" if "accuracy" in h else f"| {h['epoch']} | {h['kindLoss']:.3f} | {h['skuLoss']:.3f} | | | |"
        for h in history
    )
    runs_note = ""
    if len(t["runs"]) > 1:
        first, second = t["runs"]
        runs_note = (f" Trained in two runs: {first['epochs']} epochs ({first['minutes']} min, one-cycle to 3e-3{', model ' + first['version'] if first.get('version') else ''}), then"
                     f" {second['epochs']} more from that {'model (its ONNX: `--init-onnx`)' if getattr(args, 'init_onnx', '') else 'checkpoint'} with a new one-cycle to {second['maxLr']} ({second['minutes']} min); the curve below is the second run's (epoch 0: where it started).")
    rows = "\n".join(f"| {label} | {g[key][1]} | {rate(g[key]):.3f} |" for key, label in [
        ("all", "**all events**"),
        ("none", "nothing changed on the tray"),
        ("disappearedOwn", "a unit of the tray's product taken"),
        ("appearedOwn", "a unit put back on its own tray"),
        ("appearedForeign", "a unit put back on the WRONG tray"),
        ("disappearedForeign", "a foreign unit taken off again"),
        ("seenSku", "changes of SKUs seen in training"),
        ("heldOutSku", "changes of SKUs never seen in training"),
        ("kindOnly", "kind alone"),
        ("frontRow", "changes of a unit in the front row (or a foreign unit)"),
        ("backRow", "changes of a unit behind a full front row"),
        ("backRowKind", "… kind alone"),
        ("allPairs", "all pairs, a passing shopper over the tray counted too"),
    ] if key in g)
    budget_note = f"{t['epochs']} epochs, "
    if getattr(args, "minutes", 0):
        budget_note = (f"a wall-clock budget of {args.minutes:g} min (`--minutes`: the schedule follows the share of the budget spent;"
                       f" {t['runs'][-1]['epochs']} epochs{' of ' + str(t['pairs']) + ' pairs' if len(t['runs']) > 1 else ''} fitted in it), ")
    both_ways_note = ""
    if manifest.get("inference", {}).get("playedBothWays"):
        both_ways_note = ("Each pair is classified forwards and played backwards, combined (manifest `inference`, "
                          "`models/src/shelf-change.ts` alike): the kind from the summed log-softmaxes, the SKU from the summed embeddings.")
        if "oneWay" in v:
            o = v["oneWay"]
            both_ways_note += (f" This was added after training (the curve above was measured one way): one way, the exported model scores"
                               f" {o['accuracy']:.3f} (kind {o['kindAccuracy']:.3f}, wrong-tray put-backs {o['appearedForeign']:.3f}); played both ways, as below.")
        both_ways_note += "\n"
    sibling = description.get("siblingForeign", 0)
    sibling_note = (f" In the training export {sibling:.0%} of the wrong-tray put-backs are another flavour of the"
                    " tray's own range (when it has one), else any SKU; validation and test draw any SKU.") if sibling else ""
    return f"""# Model card: {manifest['name']} {manifest['version']}

Generated by `models/train/shelf_change.py` on {datetime.date.today().isoformat()}; the "Test run" section at the end is
written by hand from `models/test/shelf-change.test.ts`.

## What it does
The load cells say when a tray's weight changed and by how much; they cannot say which product
it was when two weigh the same, nor that a unit was put back on the wrong tray. This model takes
the tray's crop from a frame before the event and one after it ({size} × {size} RGB each, stacked
into 6 channels) and gives
- `kind`: logits over {KINDS} — what happened on the tray, and
- `embedding`: a {EMBEDDING}-d unit vector of the unit that appeared or disappeared. Its SKU is the
  one whose gallery embedding is nearest by cosine; a SKU's gallery embedding is the normalised
  mean over its catalogue pairs (an empty tray, then the same tray with one unit; played forwards
  and backwards). A SKU HQ adds needs only catalogue pairs: no retraining.
`models/src/shelf-change.ts` loads it (after checking the sha256), builds the gallery and classifies.

## Data
All synthetic, from the simulated shelf cameras (`simulators/src/vision/shelf-change-dataset.ts`).
- **Catalogue**: the product recogniser's (`recogniser-catalog.ts`): 100 store SKUs, of which
  {len(t['heldOutSkus'])} are held out for good (never rendered into training data — not on a shelf, not in a
  hand, not as a foreign unit): {', '.join(t['heldOutSkus'])}. Training adds {t['trainingOnlySkus']} SKUs of invented
  brands, many in "Brand - flavour" ranges that differ only in a thin stripe and a word.
- **Events** (training {'seeds ' + ', '.join(map(str, description['seeds'])) + ': ' + ' + '.join(map(str, description['framePairsEach'])) if len(description.get('seeds', [])) > 1 else 'seed ' + str(t['trainSeed']) + ': ' + str(description['framePairs'])} frame pairs; validation seed {val_description['seed']}:
  {val_description['framePairs']} frame pairs): a random bay (3 shelves × 3 single-facing trays, stock drawn from empty
  to full, {int(0.12 * 100)} % of trays already holding a foreign unit) seen before and after; on every tray of the bay
  independently: nothing ({mix['none']}), a unit of its product taken ({mix['takeOwn']}), one put back ({mix['putBackOwn']}), a unit of
  another SKU (any of the catalogue) put on it ({mix['putBackForeign']}), or a foreign unit taken off again ({mix['takeForeign']}), as far as
  the stock allows. A taken unit is the last one of the fill order (pusher trays fill the front row
  first), so it may be a back-row unit whose top alone shows. A foreign unit stands in the first free
  front-row slot, or in front of the front row when it is full.{sibling_note} Shoppers' arms (sometimes holding a
  unit) are in view in 15 % of trays' columns before and 30 % after; each frame draws its own lighting, blur,
  noise and passing shopper. A tray's crop shows a little of its neighbours, which change too.
  Training frames widen the camera knobs a little and move the camera (1.3–1.8 m out, 0.25–0.6 m
  above); validation and test use the scenario defaults.
- **Catalogue pairs**: 4 views per SKU (middle and top shelf, left and right tray), clean camera.
- Training: {t['pairs']} pairs ({t['classes']} SKUs); the catalogue pairs of the training SKUs are trained on too.
  {t.get('leftOutHidden', 0)} event pairs are left out: a passing shopper covers more than {MAX_HIDDEN_SHARE} of the tray's crop in
  one of the frames (`hiddenShare`, measured by the exporter against the same frame rendered without
  the shopper; training and scoring only), so what changed is not in the pixels. The test scores the same way.

## Augmentation
Each pair is played backwards half the time (appeared ↔ disappeared, same SKU). One shift (± 4 % of
the side) and scale (0.92–1.08) for both frames; per frame exposure 0.88–1.12 with ± 4 % per channel,
contrast 0.88–1.12, a light blur on 10 %, noise σ ≤ 3 levels. No flips or hue jitter (print reads one
way; a flavour is told by its stripe's hue).

## Training
Input 6 × {size} × {size}. Inside the network the after frame's gain is first matched to the before
frame's, per channel (each frame draws its own exposure and colour cast, which otherwise dominates
the difference): the ratio of the channel means over the whole crop, then again over the pixels that
look unchanged under that gain (weights exp(−(|Δ| / {GAIN_TOLERANCE})²), so the unit that changed counts
little), clamped to 0.5–2. On the validation export's unoccluded "nothing changed" pairs this takes
the median per-pixel |after − before| from 19 to 3.8 levels. Then the difference after − before is
stacked with both frames (9 channels). Trunk: six 3 × 3 convolutions with batch norm and ReLU (16–{CHANNELS} channels; the first
at full resolution, then stride 2 three times to {size // 8} × {size // 8}); kind head on its mean- and max-pooled
features (MLP). The embedding has its own branch on the same 9 channels (from 1.2.0): three 3 × 3 convolutions
({BRANCH[0]}, {BRANCH[1]}, {BRANCH[2]} channels; stride 2, 2, 1 to {size // 4} × {size // 4}), attention-pooled ({HEADS} softmax maps) with a learned
bias towards the cells where the frames differ (+ b · log(mean |after − before| + 0.05) in each map's logits), so
it looks at the unit that changed rather than the full row behind it; its pooled features and the trunk's
attention-pooled ones ({HEADS} maps over the {size // 8} × {size // 8} cells) → linear → L2 normalisation.
{sum(p.numel() for p in ShelfChange().parameters())} parameters, {manifest['bytes']} bytes of ONNX.
Loss: {manifest['training'].get('kindWeight', 1.0)} × cross-entropy on the kind + w × CosFace (scale {SCALE}, margin {MARGIN}) over the {t['classes']} training SKUs
on pairs where something changed; w is 1 while the kind settles and rises linearly to {SKU_WEIGHT_END} between {SKU_WEIGHT_RAMP[0]:.0%} and {SKU_WEIGHT_RAMP[1]:.0%}
of the run. AdamW (weight decay 5e-4), one-cycle learning rate to {args.lr},
batch {args.batch}, {budget_note}{'one run from scratch' if len(t['runs']) < 2 else 'the second run'}, on one CPU thread (sharing a 2-core machine with other jobs): {t['runs'][-1]['minutes']} min.{runs_note} The last step is exported; no
checkpoint is picked on validation data.

| epoch | kind loss | SKU loss | validation accuracy | kind | never-seen SKUs |
|---|---|---|---|---|---|
{curve}

## Held-out metrics (validation export, seed {v['seed']}, never trained on)
Gallery = all 100 store SKUs. A pair is right when the kind is right and, if something changed,
the SKU is right too. {both_ways_note}As in the test, scored on pairs where a passing shopper covers at most
{MAX_HIDDEN_SHARE} of the tray's crop in both frames (the last row counts every pair).

| events (tray at least half visible in both frames) | pairs | accuracy |
|---|---|---|
{rows}

Errors (pairs at least half visible): {result['errors']['kind']} wrong kind, {result['errors']['sku']} right kind but wrong SKU ({result['errors']['skuSameFamily']} of them another flavour of the same range).
Most frequent (true, predicted, pairs; kinds for kind errors):

| true | predicted | pairs |
|---|---|---|
{confusions}

## Known weaknesses
- Trained and measured on rendered images only: flat-shaded packages, one font, no glare, no
  units lying on their side or pushed to the back. Real trays need real data.
- A unit taken from a back row shows only its top; the kind comes from that small change and
  the SKU from the units around it (on a single-facing tray they are the same product). A unit
  taken from a tray that still looks full from the camera's angle can be missed.
- Flavours of one range differ only in a thin stripe (1–3 px) and a word too small to read on
  cans and jars: a wrong-flavour put-back among its siblings is the hardest case.
- One change per tray per event; two units at once, or a unit swapped for another, are not in
  the data.
- A shopper's arm or a passing body over the tray in the frame after hides what changed; the
  model has no "cannot see" output — callers should use the kind's softmax and the similarity margin.

## Test run
Filled in by hand from `npx vitest run models/test/shelf-change.test.ts` after each training.
"""


if __name__ == "__main__":
    main()
