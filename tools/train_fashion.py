#!/usr/bin/env python3
"""Train small reference ViT / MLP-Mixer models on Fashion-MNIST and export them as
official-layout google-research/vision_transformer `.npz` checkpoints.

The PyTorch modules below implement EXACTLY the official inference definition
(vit_jax/models_vit.py, vit_jax/models_mixer.py; see shared/reference/vit-spec.md
sections 2.2, 2.5, 3.1, 3.2, 3.4, 4.1):
  * LayerNorm eps 1e-6, GELU = tanh approximation, pre-LN blocks,
  * ViT: VALID patch conv with bias -> row-major tokens -> prepend cls -> + pos-emb ->
    blocks -> encoder_norm -> token 0 -> head (no pre_logits),
  * Mixer: stem conv (patch, stride patch) -> tokens -> token/channel mixing blocks ->
    pre_head_layer_norm -> mean over tokens -> head,
  * eval preprocessing: grey uint8 replicated to RGB, bilinear (half-pixel, no
    antialias) resize to the model resolution (identity at 28), (x - 127.5) / 127.5.

After training the script evaluates on the full 10,000-image test split and the shipped
2,000-image subset, writes the `.npz`, re-loads it and runs an independent NumPy forward
pass (NHWC input, einsum attention with the 3-D kernels) to check the export, and writes
a JSON sidecar and a model card.

Usage:
  /usr/bin/python3 tools/train_fashion.py --model vit   --out models/fashion-vit.npz   --epochs N --seed 0
  /usr/bin/python3 tools/train_fashion.py --model mixer --out models/fashion-mixer.npz --epochs N --seed 0
  /usr/bin/python3 tools/train_fashion.py --model vit --check-only --out models/fashion-vit.npz
"""
import argparse
import datetime
import json
import math
import os
import re
import platform
import subprocess
import sys
import time


def _early_threads():
    # BLAS/OpenMP pools must be sized before numpy/torch are imported.
    n = "1"
    for i, a in enumerate(sys.argv):
        if a == "--threads" and i + 1 < len(sys.argv):
            n = sys.argv[i + 1]
        elif a.startswith("--threads="):
            n = a.split("=", 1)[1]
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, n)


_early_threads()

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from idx import read_idx

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
LN_EPS = 1e-6

# ----------------------------------------------------------------------------- configs

DEFAULTS = {
    # Defaults of a run; the shipped checkpoints override some of them (the ViT uses patch 4,
    # and later stages a lower lr and augmentation): their exact commands, stage by stage, are
    # recorded in models/*.json and the model cards.
    "vit": dict(resolution=28, patch=7, hidden=96, layers=6, heads=3, mlp=192,
                lr=2e-3, weight_decay=0.05, batch=128, warmup_epochs=0.5,
                label_smoothing=0.1, pad=0, hflip=False),
    "mixer": dict(resolution=28, patch=7, hidden=128, blocks=6, tokens_mlp=64,
                  channels_mlp=384, lr=2e-3, weight_decay=0.05, batch=128,
                  warmup_epochs=0.5, label_smoothing=0.1, pad=0, hflip=False),
}

# ----------------------------------------------------------------------------- data


def load_split(root, split):
    x = read_idx(os.path.join(root, f"{split}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(root, f"{split}-labels-idx1-ubyte.gz"))
    return x, y.astype(np.int64)


def eval_preprocess(x_u8, resolution):
    """Official eval pipeline (vit_jax/input_pipeline.py): uint8 grey [N,H,W] ->
    RGB float32 NHWC -> bilinear half-pixel resize (no antialias; identity at the
    native size) -> (x - 127.5) / 127.5.  Returns a float32 NHWC numpy array."""
    x = np.repeat(x_u8[..., None], 3, axis=-1).astype(np.float32)
    if x.shape[1] != resolution or x.shape[2] != resolution:
        t = torch.from_numpy(x).permute(0, 3, 1, 2)
        t = F.interpolate(t, size=(resolution, resolution), mode="bilinear",
                          align_corners=False, antialias=False)
        x = t.permute(0, 2, 3, 1).contiguous().numpy()
    return (x - 127.5) / 127.5


def augment_batch(xb_u8, gen, pad, hflip, resolution):
    """Training augmentation on a uint8 [B,28,28] tensor: zero-pad + random crop back to
    28x28, random horizontal flip; then the eval mapping. Returns NCHW float32."""
    B, H, W = xb_u8.shape
    x = xb_u8.float()
    if pad > 0:
        xp = F.pad(x, (pad, pad, pad, pad))
        oy = torch.randint(0, 2 * pad + 1, (B,), generator=gen)
        ox = torch.randint(0, 2 * pad + 1, (B,), generator=gen)
        ar = torch.arange(H)
        rows = (oy[:, None] + ar[None, :])  # [B,H]
        cols = (ox[:, None] + ar[None, :])  # [B,W]
        x = xp[torch.arange(B)[:, None, None], rows[:, :, None], cols[:, None, :]]
    if hflip:
        flip = torch.rand(B, generator=gen) < 0.5
        x = torch.where(flip[:, None, None], x.flip(-1), x)
    x = x[:, None].expand(B, 3, H, W)
    if resolution != H:
        x = F.interpolate(x, size=(resolution, resolution), mode="bilinear",
                          align_corners=False, antialias=False)
    return ((x - 127.5) / 127.5).contiguous()


# ----------------------------------------------------------------------------- models


def gelu_tanh(x):
    return F.gelu(x, approximate="tanh")


class MlpBlock(nn.Module):
    def __init__(self, d_in, d_hidden):
        super().__init__()
        self.Dense_0 = nn.Linear(d_in, d_hidden)
        self.Dense_1 = nn.Linear(d_hidden, d_in)

    def forward(self, x):
        return self.Dense_1(gelu_tanh(self.Dense_0(x)))


class MHA(nn.Module):
    """flax MultiHeadDotProductAttention; features head-major (column h*hd + d)."""

    def __init__(self, d, heads):
        super().__init__()
        self.h, self.hd = heads, d // heads
        self.query = nn.Linear(d, d)
        self.key = nn.Linear(d, d)
        self.value = nn.Linear(d, d)
        self.out = nn.Linear(d, d)

    def forward(self, y):
        n, t, d = y.shape
        q = self.query(y).view(n, t, self.h, self.hd).transpose(1, 2)  # n,h,t,hd
        k = self.key(y).view(n, t, self.h, self.hd).transpose(1, 2)
        v = self.value(y).view(n, t, self.h, self.hd).transpose(1, 2)
        q = q / math.sqrt(self.hd)
        w = torch.softmax(q @ k.transpose(-1, -2), dim=-1)  # n,h,tq,tk
        o = (w @ v).transpose(1, 2).reshape(n, t, d)  # n,t,(h hd)
        return self.out(o)


class EncoderBlock(nn.Module):
    def __init__(self, d, heads, mlp):
        super().__init__()
        self.LayerNorm_0 = nn.LayerNorm(d, eps=LN_EPS)
        self.attn = MHA(d, heads)
        self.LayerNorm_2 = nn.LayerNorm(d, eps=LN_EPS)
        self.mlp = MlpBlock(d, mlp)

    def forward(self, x):
        x = x + self.attn(self.LayerNorm_0(x))
        return x + self.mlp(self.LayerNorm_2(x))


class ViT(nn.Module):
    def __init__(self, resolution, patch, hidden, layers, heads, mlp, num_classes=10, **_):
        super().__init__()
        self.patch, self.hidden = patch, hidden
        g = resolution // patch
        self.embedding = nn.Conv2d(3, hidden, patch, stride=patch, padding=0, bias=True)
        self.cls = nn.Parameter(torch.zeros(1, 1, hidden))
        self.pos_embedding = nn.Parameter(torch.randn(1, g * g + 1, hidden) * 0.02)
        self.blocks = nn.ModuleList([EncoderBlock(hidden, heads, mlp) for _ in range(layers)])
        self.encoder_norm = nn.LayerNorm(hidden, eps=LN_EPS)
        self.head = nn.Linear(hidden, num_classes)
        self._init()

    def _init(self):
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.normal_(m.bias, std=1e-6)
        for b in self.blocks:  # flax MHA default init: lecun-ish; keep xavier, zero biases
            for lin in (b.attn.query, b.attn.key, b.attn.value, b.attn.out):
                nn.init.zeros_(lin.bias)
        fan_in = 3 * self.patch * self.patch
        nn.init.trunc_normal_(self.embedding.weight, std=math.sqrt(1.0 / fan_in))
        nn.init.zeros_(self.embedding.bias)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x):  # x: NCHW
        x = self.embedding(x)  # n,D,g,g
        x = x.flatten(2).transpose(1, 2)  # n, g*g, D (row-major tokens)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1)
        x = x + self.pos_embedding
        for b in self.blocks:
            x = b(x)
        x = self.encoder_norm(x)
        return self.head(x[:, 0])


class MixerBlock(nn.Module):
    def __init__(self, tokens, channels, tokens_mlp, channels_mlp):
        super().__init__()
        self.LayerNorm_0 = nn.LayerNorm(channels, eps=LN_EPS)
        self.token_mixing = MlpBlock(tokens, tokens_mlp)
        self.LayerNorm_1 = nn.LayerNorm(channels, eps=LN_EPS)
        self.channel_mixing = MlpBlock(channels, channels_mlp)

    def forward(self, x):
        y = self.LayerNorm_0(x).transpose(1, 2)
        x = x + self.token_mixing(y).transpose(1, 2)
        return x + self.channel_mixing(self.LayerNorm_1(x))


class Mixer(nn.Module):
    def __init__(self, resolution, patch, hidden, blocks, tokens_mlp, channels_mlp,
                 num_classes=10, **_):
        super().__init__()
        assert resolution % patch == 0, "SAME padding only equals VALID when res % patch == 0"
        self.patch = patch
        s = (resolution // patch) ** 2
        self.stem = nn.Conv2d(3, hidden, patch, stride=patch, padding=0, bias=True)
        self.blocks = nn.ModuleList(
            [MixerBlock(s, hidden, tokens_mlp, channels_mlp) for _ in range(blocks)])
        self.pre_head_layer_norm = nn.LayerNorm(hidden, eps=LN_EPS)
        self.head = nn.Linear(hidden, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.normal_(m.bias, std=1e-6)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x):
        x = self.stem(x).flatten(2).transpose(1, 2)  # n,S,C
        for b in self.blocks:
            x = b(x)
        x = self.pre_head_layer_norm(x)
        return self.head(x.mean(dim=1))


def build_model(kind, cfg):
    return ViT(**cfg) if kind == "vit" else Mixer(**cfg)


# ----------------------------------------------------------------------------- export


def _np(t):
    return t.detach().cpu().numpy().astype(np.float32)


def _dense(prefix, lin, out):
    out[f"{prefix}/kernel"] = _np(lin.weight).T.copy()  # [in, out]
    out[f"{prefix}/bias"] = _np(lin.bias)


def _ln(prefix, ln, out):
    out[f"{prefix}/scale"] = _np(ln.weight)
    out[f"{prefix}/bias"] = _np(ln.bias)


def _conv(prefix, conv, out):
    out[f"{prefix}/kernel"] = _np(conv.weight).transpose(2, 3, 1, 0).copy()  # OIHW -> HWIO
    out[f"{prefix}/bias"] = _np(conv.bias)


def vit_to_tree(m):
    out = {}
    _conv("embedding", m.embedding, out)
    out["cls"] = _np(m.cls)
    out["Transformer/posembed_input/pos_embedding"] = _np(m.pos_embedding)
    for l, b in enumerate(m.blocks):
        p = f"Transformer/encoderblock_{l}"
        _ln(f"{p}/LayerNorm_0", b.LayerNorm_0, out)
        H, hd = b.attn.h, b.attn.hd
        D = H * hd
        a = f"{p}/MultiHeadDotProductAttention_1"
        for name in ("query", "key", "value"):
            lin = getattr(b.attn, name)
            out[f"{a}/{name}/kernel"] = _np(lin.weight).T.reshape(D, H, hd).copy()
            out[f"{a}/{name}/bias"] = _np(lin.bias).reshape(H, hd).copy()
        out[f"{a}/out/kernel"] = _np(b.attn.out.weight).T.reshape(H, hd, D).copy()
        out[f"{a}/out/bias"] = _np(b.attn.out.bias)
        _ln(f"{p}/LayerNorm_2", b.LayerNorm_2, out)
        _dense(f"{p}/MlpBlock_3/Dense_0", b.mlp.Dense_0, out)
        _dense(f"{p}/MlpBlock_3/Dense_1", b.mlp.Dense_1, out)
    _ln("Transformer/encoder_norm", m.encoder_norm, out)
    _dense("head", m.head, out)
    return out


def mixer_to_tree(m):
    out = {}
    _conv("stem", m.stem, out)
    for i, b in enumerate(m.blocks):
        p = f"MixerBlock_{i}"
        _ln(f"{p}/LayerNorm_0", b.LayerNorm_0, out)
        _dense(f"{p}/token_mixing/Dense_0", b.token_mixing.Dense_0, out)
        _dense(f"{p}/token_mixing/Dense_1", b.token_mixing.Dense_1, out)
        _ln(f"{p}/LayerNorm_1", b.LayerNorm_1, out)
        _dense(f"{p}/channel_mixing/Dense_0", b.channel_mixing.Dense_0, out)
        _dense(f"{p}/channel_mixing/Dense_1", b.channel_mixing.Dense_1, out)
    _ln("pre_head_layer_norm", m.pre_head_layer_norm, out)
    _dense("head", m.head, out)
    return out


def save_npz(path, tree):
    """Write an official-layout checkpoint: np.savez(path, **{key: float32 array})."""
    tree = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tree.items()}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    np.savez(path, **tree)


def load_npz(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


# ----------------------------------------------------------------------------- numpy reference
# Independent forward pass written from the spec formulas (NHWC input, 3-D attention kernels,
# einsum), in float64 for a clean reference.


def np_layernorm(x, scale, bias, eps=LN_EPS):
    mean = x.mean(-1, keepdims=True)
    var = (x * x).mean(-1, keepdims=True) - mean * mean  # flax one-pass variance
    var = np.maximum(var, 0.0)
    return (x - mean) * (1.0 / np.sqrt(var + eps) * scale) + bias


def np_gelu(x):
    return x * 0.5 * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * (x * x * x))))


def np_dense(x, w, p):
    return x @ w[f"{p}/kernel"] + w[f"{p}/bias"]


def np_mlp(x, w, p):
    return np_dense(np_gelu(np_dense(x, w, f"{p}/Dense_0")), w, f"{p}/Dense_1")


def np_patch_conv(x, kernel, bias):
    """VALID conv with kernel PxP, stride P, HWIO kernel; x NHWC -> [n, gh, gw, D]."""
    n, H, W, C = x.shape
    P = kernel.shape[0]
    gh, gw = H // P, W // P
    x = x[:, :gh * P, :gw * P, :]
    patches = x.reshape(n, gh, P, gw, P, C).transpose(0, 1, 3, 2, 4, 5)  # n,gh,gw,kh,kw,c
    patches = patches.reshape(n, gh, gw, P * P * C)
    return patches @ kernel.reshape(P * P * C, -1) + bias


def np_softmax(x, axis):
    x = x - x.max(axis=axis, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


def np_vit_forward(w, x):
    w = {k: v.astype(np.float64) for k, v in w.items()}
    x = x.astype(np.float64)
    n = x.shape[0]
    x = np_patch_conv(x, w["embedding/kernel"], w["embedding/bias"])
    D = x.shape[-1]
    x = x.reshape(n, -1, D)
    x = np.concatenate([np.tile(w["cls"], (n, 1, 1)), x], axis=1)
    x = x + w["Transformer/posembed_input/pos_embedding"]
    L = len({k.split("/")[1] for k in w if k.startswith("Transformer/encoderblock_")})
    for l in range(L):
        p = f"Transformer/encoderblock_{l}"
        a = f"{p}/MultiHeadDotProductAttention_1"
        y = np_layernorm(x, w[f"{p}/LayerNorm_0/scale"], w[f"{p}/LayerNorm_0/bias"])
        q = np.einsum("btc,chd->bthd", y, w[f"{a}/query/kernel"], optimize=True) + w[f"{a}/query/bias"]
        k = np.einsum("btc,chd->bthd", y, w[f"{a}/key/kernel"], optimize=True) + w[f"{a}/key/bias"]
        v = np.einsum("btc,chd->bthd", y, w[f"{a}/value/kernel"], optimize=True) + w[f"{a}/value/bias"]
        q = q / np.sqrt(q.shape[-1])
        logits = np.einsum("bqhd,bkhd->bhqk", q, k, optimize=True)
        att = np_softmax(logits, axis=-1)
        o = np.einsum("bhqk,bkhd->bqhd", att, v, optimize=True)
        y = np.einsum("bqhd,hdc->bqc", o, w[f"{a}/out/kernel"], optimize=True) + w[f"{a}/out/bias"]
        x = x + y
        y = np_layernorm(x, w[f"{p}/LayerNorm_2/scale"], w[f"{p}/LayerNorm_2/bias"])
        x = x + np_mlp(y, w, f"{p}/MlpBlock_3")
    x = np_layernorm(x, w["Transformer/encoder_norm/scale"], w["Transformer/encoder_norm/bias"])
    return np_dense(x[:, 0], w, "head")


def np_mixer_forward(w, x):
    w = {k: v.astype(np.float64) for k, v in w.items()}
    x = x.astype(np.float64)
    n = x.shape[0]
    x = np_patch_conv(x, w["stem/kernel"], w["stem/bias"])
    x = x.reshape(n, -1, x.shape[-1])
    B = len({k.split("/")[0] for k in w if k.startswith("MixerBlock_")})
    for i in range(B):
        p = f"MixerBlock_{i}"
        y = np_layernorm(x, w[f"{p}/LayerNorm_0/scale"], w[f"{p}/LayerNorm_0/bias"])
        y = np.swapaxes(y, 1, 2)
        y = np_mlp(y, w, f"{p}/token_mixing")
        x = x + np.swapaxes(y, 1, 2)
        y = np_layernorm(x, w[f"{p}/LayerNorm_1/scale"], w[f"{p}/LayerNorm_1/bias"])
        x = x + np_mlp(y, w, f"{p}/channel_mixing")
    x = np_layernorm(x, w["pre_head_layer_norm/scale"], w["pre_head_layer_norm/bias"])
    return np_dense(x.mean(axis=1), w, "head")


def np_forward(kind, w, x_nhwc, batch=500):
    fn = np_vit_forward if kind == "vit" else np_mixer_forward
    return np.concatenate([fn(w, x_nhwc[i:i + batch]) for i in range(0, len(x_nhwc), batch)])


# ----------------------------------------------------------------------------- eval


@torch.no_grad()
def torch_logits(model, x_nhwc, batch=500):
    model.eval()
    outs = []
    for i in range(0, len(x_nhwc), batch):
        xb = torch.from_numpy(x_nhwc[i:i + batch]).permute(0, 3, 1, 2).contiguous()
        outs.append(model(xb).numpy())
    return np.concatenate(outs)


def metrics(logits, y):
    pred = logits.argmax(1)
    top5 = np.argsort(-logits, axis=1)[:, :5]
    res = {
        "n": int(len(y)),
        "correct": int((pred == y).sum()),
        "top1": float((pred == y).mean()),
        "top5": float((top5 == y[:, None]).any(1).mean()),
        "per_class_top1": {CLASS_NAMES[c]: float((pred[y == c] == c).mean()) for c in range(10)},
    }
    return res


def check_export(kind, npz_path, model, x_test, y_test, n_logit_check=1000):
    """Reload the npz, run the numpy reference, compare with torch."""
    w = load_npz(npz_path)
    t_logits = torch_logits(model, x_test)
    n_logits = np_forward(kind, w, x_test)
    sub = slice(0, n_logit_check)
    diff = np.abs(n_logits[sub] - t_logits[sub])
    max_abs = float(diff.max())
    scale = float(np.abs(n_logits[sub]).max())
    max_rel = max_abs / scale
    t_pred, n_pred = t_logits.argmax(1), n_logits.argmax(1)
    return {
        "npz_keys": len(w),
        "npz_params": int(sum(v.size for v in w.values())),
        "logits_max_abs_diff_all": float(np.abs(n_logits - t_logits).max()),
        "logits_max_abs_diff": max_abs,
        "logits_max_rel_diff_vs_max_logit": max_rel,
        "argmax_disagreements": int((t_pred != n_pred).sum()),
        "torch_top1": float((t_pred == y_test).mean()),
        "numpy_top1": float((n_pred == y_test).mean()),
        "pass": bool(max_rel < 1e-4 and (t_pred == y_test).sum() == (n_pred == y_test).sum()),
    }


# ----------------------------------------------------------------------------- card


def machine_info():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu_model": cpu, "machine": platform.machine(),
            "python": platform.python_version(), "torch": torch.__version__,
            "numpy": np.__version__, "torch_threads": torch.get_num_threads()}


RECIPE_KEYS = ("lr", "weight_decay", "batch", "warmup_epochs", "label_smoothing", "pad", "hflip")


def stage_of(res):
    """A one-stage record from a sidecar JSON written before stages were recorded."""
    return {
        "command_args": res["command_args"], "epochs": res["epochs"], "steps": res["steps"], "seed": res["seed"],
        "recipe": {k: res["config"][k] for k in RECIPE_KEYS}, "train_seconds": res["train_seconds"],
        "finished_utc": res["finished_utc"], "test_top1": res["test"]["top1"],
    }


def stages_before(init_from):
    """The training history of the checkpoint a run starts from (its sidecar JSON), [] for a fresh start."""
    if not init_from:
        return []
    side = os.path.splitext(init_from)[0] + ".json"
    if not os.path.exists(side):
        raise SystemExit(f"--init-from {init_from}: no {side} beside it, so the card could not say how "
                         "the starting weights were trained")
    with open(side) as f:
        prev = json.load(f)
    return prev.get("stages") or [stage_of(prev)]


TEACHER_PATH = "/tmp/fashion-teacher.pt"


def stage_commands(kind, st):
    """The command(s) that reproduce one stage: its teacher's training first when it distils."""
    cmd = f"/usr/bin/python3 tools/train_fashion.py {canonical_command(kind, st['command_args'])}"
    d = st.get("distill")
    if not d:
        return cmd
    teacher = re.sub(r"--out \S+", f"--out {TEACHER_PATH}", d["teacher_command_args"])
    return f"/usr/bin/python3 tools/train_teacher.py {teacher}\n{cmd}"


def teacher_time(stages):
    secs = sum(st["distill"]["teacher_train_seconds"] for st in stages if st.get("distill"))
    return f", plus {secs / 60:.1f} min to train the CNN teacher" if secs else ""


def distill_of(st):
    d = st.get("distill")
    return f"CNN teacher ({d['teacher_test_top1'] * 100:.2f}%), α {d['alpha']:g}, T {d['temp']:g}" if d else "—"


def distill_md(stages, distilled):
    if not distilled:
        return ""
    d = stages[distilled[-1]]["distill"]
    return f"""Distillation: the student's loss is (1 − α) · label-smoothed cross-entropy + α · T² ·
KL(teacher_T ‖ student_T) on the same augmented batch (Hinton et al. 2015; DeiT's convnet-teacher
recipe without its extra distillation token, so the ViT's architecture is unchanged). The teacher is a
{d['teacher_params']:,}-parameter CNN trained by `tools/train_teacher.py` in {d['teacher_train_seconds'] / 60:.1f} min
({d['teacher_test_top1'] * 100:.2f}% test top-1); it is a training aid only and is not shipped.

"""


def canonical_command(kind, args):
    """A stage's command with --out / --init-from pointing at the checked-in checkpoint."""
    path = f"models/fashion-{kind}.npz"
    args = re.sub(r"--teacher \S+", f"--teacher {TEACHER_PATH}", args)
    args = re.sub(r"--out \S+", f"--out {path}", args)
    return re.sub(r"--init-from \S+", f"--init-from {path}", args)


def param_count(tree):
    return int(sum(v.size for v in tree.values()))


def write_card(kind, path, res):
    c = res["config"]
    full, sub, chk, mi = res["test"], res["subset"], res["export_check"], res["machine"]
    if kind == "vit":
        title = "fashion-vit — ViT reference model for Fashion-MNIST"
        g = c["resolution"] // c["patch"]
        arch = f"""Official `vit_jax/models_vit.py::VisionTransformer` definition (pure ViT, classifier `token`,
no `representation_size` / `pre_logits`):

| field | value |
|---|---|
| input resolution | {c['resolution']}×{c['resolution']}×3 (NHWC) |
| patch size P (VALID conv, stride P, with bias) | {c['patch']} → {g}×{g} = {g*g} patch tokens, + cls = {g*g+1} tokens |
| hidden_size D | {c['hidden']} |
| num_layers L | {c['layers']} |
| num_heads H (head_dim) | {c['heads']} ({c['hidden'] // c['heads']}) |
| mlp_dim M | {c['mlp']} |
| classifier | `token` (cls prepended, pooled from token 0 after `encoder_norm`) |
| num_classes K | 10 |
| LayerNorm eps / GELU | 1e-6 / tanh approximation (`jax.nn.gelu` default) |
| parameters | {res['params']:,} |
| checkpoint | `models/fashion-vit.npz`, {res['npz_bytes']:,} bytes, {chk['npz_keys']} float32 arrays, ViT npz (pre-Linen) naming (`MultiHeadDotProductAttention_1`, `LayerNorm_2`, `MlpBlock_3`) |
"""
    else:
        title = "fashion-mixer — MLP-Mixer reference model for Fashion-MNIST"
        g = c["resolution"] // c["patch"]
        arch = f"""Official `vit_jax/models_mixer.py::MlpMixer` definition:

| field | value |
|---|---|
| input resolution | {c['resolution']}×{c['resolution']}×3 (NHWC) |
| patch size P (stem conv, stride P, with bias; SAME = VALID since {c['resolution']} % {c['patch']} = 0) | {c['patch']} → S = {g}×{g} = {g*g} tokens |
| hidden_dim C | {c['hidden']} |
| num_blocks | {c['blocks']} |
| tokens_mlp_dim D_S | {c['tokens_mlp']} |
| channels_mlp_dim D_C | {c['channels_mlp']} |
| head | `pre_head_layer_norm` → mean over tokens → Dense(10) |
| LayerNorm eps / GELU | 1e-6 / tanh approximation |
| parameters | {res['params']:,} |
| checkpoint | `models/fashion-mixer.npz`, {res['npz_bytes']:,} bytes, {chk['npz_keys']} float32 arrays, Linen Mixer naming (`MixerBlock_i/LayerNorm_0`, `token_mixing/Dense_0`, …) |
"""
    per_class = "\n".join(
        f"| {i} | {n} | {full['per_class_top1'][n]*100:.1f} | {sub['per_class_top1'][n]*100:.1f} |"
        for i, n in enumerate(CLASS_NAMES))
    aug = []
    if c["pad"]:
        aug.append(f"zero-pad {c['pad']} px + random {c['resolution']}×{c['resolution']} crop")
    if c["hflip"]:
        aug.append("random horizontal flip (p = 0.5)")
    aug_s = ", ".join(aug) if aug else "none"
    stages = res.get("stages") or [stage_of(res)]
    total_seconds = sum(st["train_seconds"] for st in stages)
    mins = total_seconds / 60
    commands = "\n".join(stage_commands(kind, st) for st in stages)
    distilled = [i for i, st in enumerate(stages) if st.get("distill")]
    if len(stages) == 1:
        stages_md = f"Reproduce:\n\n```\n{commands}\n```\n"
    else:
        def aug_of(r):
            parts = ([f"pad {r['pad']} + crop"] if r["pad"] else []) + (["hflip"] if r["hflip"] else [])
            return ", ".join(parts) or "none"
        rows = "\n".join(
            f"| {i + 1} | {'from scratch' if i == 0 else 'from stage ' + str(i)} | {st['epochs']} ({st['steps']:,} steps) | "
            f"{st['recipe']['lr']:g} | {st['recipe']['warmup_epochs']:g} | {aug_of(st['recipe'])} | {distill_of(st)} | {st['seed']} | "
            f"{st['train_seconds'] / 60:.1f} min | {st['test_top1'] * 100:.2f}% |"
            for i, st in enumerate(stages))
        stages_md = f"""Trained in {len(stages)} stages, each continuing from the previous checkpoint with a fresh
optimizer and its own warm-up + cosine schedule (the table above shows the last stage's recipe):

| stage | start | epochs | peak lr | warm-up (epochs) | augmentation | distillation | seed | time | test top-1 after |
|---|---|---|---|---|---|---|---|---|---|
{rows}

{distill_md(stages, distilled)}Reproduce (one command per stage, in order):

```
{commands}
```
"""
    card = f"""# {title}

A small reference checkpoint trained from scratch on Fashion-MNIST with PyTorch by
`tools/train_fashion.py`{' (with distillation from a CNN teacher, see the training recipe)' if distilled else ''}, stored in the official google-research/vision_transformer `.npz`
layout so that vitopt's loader/exporter can be tested end-to-end on real accuracy.
Not a pretrained/published google-research model.

## Architecture

{arch}
## Input and preprocessing (evaluation)

Exactly the official eval pipeline (`vit_jax/input_pipeline.py`, spec §4.1):
grey 28×28 uint8 image replicated to 3 identical RGB channels → bilinear resize
(half-pixel centres, no antialias) to {c['resolution']}×{c['resolution']} — at 28 this is the
identity (plain cast to float32) → `(x − 127.5) / 127.5` (range [−1, 1]) → NHWC float32.
Output: 10 logits (no softmax). Class order: {", ".join(f"{i} {n}" for i, n in enumerate(CLASS_NAMES))}.

## Results

| split | images | top-1 | top-5 |
|---|---|---|---|
| Fashion-MNIST test (full) | {full['n']:,} | **{full['top1']*100:.2f}%** ({full['correct']}/{full['n']}) | {full['top5']*100:.2f}% |
| shipped subset `data/fashion-mnist-subset/` | {sub['n']:,} | **{sub['top1']*100:.2f}%** ({sub['correct']}/{sub['n']}) | {sub['top5']*100:.2f}% |

Subset vs full split: {100*(sub['top1']-full['top1']):+.2f} points.

Per-class top-1 (%):

| label | class | full test (1,000 each) | subset (200 each) |
|---|---|---|---|
{per_class}

## Export verification

After saving, the `.npz` was re-loaded with NumPy and run through an independent NumPy
forward pass written literally from the spec (NHWC input, patch conv as patch-matmul with the
HWIO kernel, einsum attention with the 3-D `(D,H,hd)` / `(H,hd,D)` kernels, one-pass LayerNorm,
tanh GELU; float64) over the full test split:

- max |logit difference| vs the PyTorch model: {chk['logits_max_abs_diff_all']:.2e} (all 10,000 images);
  relative to the largest |logit| (first 1,000 images): {chk['logits_max_rel_diff_vs_max_logit']:.2e}
- argmax disagreements: {chk['argmax_disagreements']}
- top-1 PyTorch {chk['torch_top1']*100:.2f}% / NumPy {chk['numpy_top1']*100:.2f}%
- check: {'PASS' if chk['pass'] else 'FAIL'}

## Training recipe

| item | value |
|---|---|
| data | Fashion-MNIST train split, all 60,000 images (no validation hold-out) |
| framework | PyTorch {mi['torch']} (CPU, float32, {mi['torch_threads']} threads), NumPy {mi['numpy']}, Python {mi['python']} |
| optimizer | AdamW (β = 0.9, 0.999), lr {c['lr']:g}, weight decay {c['weight_decay']:g} (decoupled; on Dense/conv kernels only — not on biases, LayerNorm parameters, cls or pos-emb) |
| schedule | linear warm-up {c['warmup_epochs']} epoch(s), then cosine decay to 0, per step |
| epochs / batch | {stages[-1]['epochs']} / {c['batch']} ({stages[-1]['steps']:,} steps){' in the last stage' if len(stages) > 1 else ''} |
| loss | cross-entropy, label smoothing {c['label_smoothing']:g}{' (+ distillation in stage ' + ', '.join(str(i + 1) for i in distilled) + ', see below)' if distilled else ''} |
| gradient clipping | global norm 1.0 |
| augmentation | {aug_s}; then the eval mapping `(x − 127.5)/127.5` |
| init | Linear: Xavier-uniform, ~0 bias; head: zeros; {'pos-emb N(0, 0.02), cls zeros, patch conv truncated-normal (fan-in)' if kind == 'vit' else 'stem conv: PyTorch default'} |
| seed | {stages[-1]['seed']} (`torch.manual_seed`; separate seeded generators for the data order and augmentation) |

{stages_md}
(Bit-exact reproduction of the weights needs the same PyTorch build and thread count; a
different BLAS/thread count gives slightly different weights and accuracy within a few tenths
of a point.)

Wall-clock training time: **{mins:.1f} min** ({total_seconds:.0f} s{' over all stages' if len(stages) > 1 else ''}, training loop only{teacher_time(stages)};
evaluation + export check {res['eval_seconds']:.0f} s) on a {mi['nproc']}-core x86-64 VM (`nproc` = {mi['nproc']},
CPU model `{mi['cpu_model']}` from /proc/cpuinfo), shared with other work. Finished {res['finished_utc']}.

{res.get('note', '')}

## Dataset licence

Fashion-MNIST (https://github.com/zalandoresearch/fashion-mnist) — MIT licence,
Copyright (c) 2017 Zalando SE. The weights here are derived from its training split; the
shipped evaluation subset carries the licence in `data/fashion-mnist-subset/LICENSE`.
"""
    with open(path, "w") as f:
        f.write(card)


# ----------------------------------------------------------------------------- training


def load_teacher(path):
    """The TorchScript teacher (tools/train_teacher.py), in eval mode; it takes the student's NCHW input."""
    t = torch.jit.load(path)
    t.eval()
    return t


def distilled_loss(label_loss, logits, teacher_logits, alpha, temp):
    """Hinton et al. (2015): (1 - alpha) * label loss + alpha * T^2 * KL(teacher_T || student_T).
    T^2 keeps the soft term's gradient scale independent of the temperature."""
    kl = F.kl_div(F.log_softmax(logits / temp, dim=1), F.log_softmax(teacher_logits / temp, dim=1),
                  reduction="batchmean", log_target=True)
    return (1 - alpha) * label_loss + alpha * temp * temp * kl


def teacher_record(path, alpha, temp):
    side = os.path.splitext(path)[0] + ".json"
    with open(side) as f:
        t = json.load(f)
    return {"teacher_command_args": t["command_args"], "teacher_test_top1": t["test_top1"],
            "teacher_train_seconds": t["train_seconds"], "teacher_params": t["params"],
            "alpha": alpha, "temp": temp}


def make_optimizer(model, lr, wd):
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (decay if p.ndim >= 2 and "pos_embedding" not in n and n != "cls" else no_decay).append(p)
    return torch.optim.AdamW([{"params": decay, "weight_decay": wd},
                              {"params": no_decay, "weight_decay": 0.0}],
                             lr=lr, betas=(0.9, 0.999))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", choices=["vit", "mixer"], required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--subset", default="data/fashion-mnist-subset")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--check-only", action="store_true",
                    help="skip training: load --out and re-run evaluation + numpy check")
    ap.add_argument("--init-from", default="",
                    help="start from the weights of an existing official-layout .npz (same config)")
    ap.add_argument("--note", default="", help="free text recorded in the model card (e.g. run conditions)")
    ap.add_argument("--max-steps", type=int, default=0, help="debug: stop after N steps")
    ap.add_argument("--teacher", default="",
                    help="TorchScript teacher from tools/train_teacher.py: distil its soft outputs")
    ap.add_argument("--distill-alpha", type=float, default=0.5,
                    help="weight of the distillation term (the label term gets 1 - alpha)")
    ap.add_argument("--distill-temp", type=float, default=2.0, help="softmax temperature of the distillation term")
    # architecture / recipe overrides
    for k in sorted(set(DEFAULTS["vit"]) | set(DEFAULTS["mixer"])):
        typ = type(DEFAULTS["vit"].get(k, DEFAULTS["mixer"].get(k)))
        if typ is bool:
            ap.add_argument(f"--{k.replace('_', '-')}", type=int, default=None)
        else:
            ap.add_argument(f"--{k.replace('_', '-')}", type=typ, default=None)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)

    cfg = dict(DEFAULTS[args.model])
    overridden = []
    for k in cfg:
        v = getattr(args, k)
        if v is not None:
            cfg[k] = bool(v) if isinstance(cfg[k], bool) else v
            overridden.append(f"--{k.replace('_', '-')} {v}")

    sidecar = os.path.splitext(args.out)[0] + ".json"
    prev = {}
    if args.check_only and os.path.exists(sidecar):
        with open(sidecar) as f:
            prev = json.load(f)
        cfg = prev["config"]  # rebuild exactly the trained architecture

    x_train, y_train = load_split(args.data, "train")
    x_test, y_test = load_split(args.data, "t10k")
    xs_test, ys_test = load_split(args.subset, "t10k")
    xt = eval_preprocess(x_test, cfg["resolution"])
    xst = eval_preprocess(xs_test, cfg["resolution"])

    model = build_model(args.model, cfg)
    if args.init_from and not args.check_only:
        load_tree_into(model, args.model, load_npz(args.init_from))
        print(f"[{args.model}] initialised from {args.init_from}", flush=True)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"[{args.model}] config {json.dumps(cfg)}  params {n_params:,}", flush=True)

    steps_per_epoch = len(x_train) // cfg["batch"]  # drop last partial batch
    total_steps = steps_per_epoch * args.epochs
    train_seconds = 0.0
    if not args.check_only:
        opt = make_optimizer(model, cfg["lr"], cfg["weight_decay"])
        warm = int(round(steps_per_epoch * cfg["warmup_epochs"]))

        def lr_at(s):
            if s < warm:
                return cfg["lr"] * (s + 1) / warm
            return cfg["lr"] * 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, total_steps - warm)))

        teacher = load_teacher(args.teacher) if args.teacher else None
        g_order = torch.Generator().manual_seed(args.seed + 1)
        g_aug = torch.Generator().manual_seed(args.seed + 2)
        xtr = torch.from_numpy(x_train)
        ytr = torch.from_numpy(y_train)
        step = 0
        t0 = time.time()
        for ep in range(args.epochs):
            model.train()
            perm = torch.randperm(len(xtr), generator=g_order)
            te = time.time()
            loss_sum, correct, seen = 0.0, 0, 0
            for bi in range(steps_per_epoch):
                idx = perm[bi * cfg["batch"]:(bi + 1) * cfg["batch"]]
                xb = augment_batch(xtr[idx], g_aug, cfg["pad"], cfg["hflip"], cfg["resolution"])
                yb = ytr[idx]
                for grp in opt.param_groups:
                    grp["lr"] = lr_at(step)
                logits = model(xb)
                loss = F.cross_entropy(logits, yb, label_smoothing=cfg["label_smoothing"])
                if teacher is not None:
                    with torch.no_grad():  # the teacher is frozen: no graph, no gradients
                        teacher_logits = teacher(xb)
                    loss = distilled_loss(loss, logits, teacher_logits, args.distill_alpha, args.distill_temp)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                step += 1
                loss_sum += loss.item() * len(yb)
                correct += (logits.argmax(1) == yb).sum().item()
                seen += len(yb)
                if args.max_steps and step >= args.max_steps:
                    break
                if (bi + 1) % 100 == 0:
                    print(f"  step {bi+1}/{steps_per_epoch} loss {loss_sum/seen:.4f} "
                          f"acc {correct/seen:.4f} {time.time()-te:.0f}s", flush=True)
            ep_time = time.time() - te
            train_seconds = time.time() - t0
            tl = torch_logits(model, xt)
            acc = float((tl.argmax(1) == y_test).mean())
            t_eval = time.time() - te - ep_time
            t0 += t_eval  # exclude per-epoch monitoring eval from the training time
            print(f"[{args.model}] epoch {ep+1}/{args.epochs} loss {loss_sum/seen:.4f} "
                  f"train_acc {correct/seen:.4f} test_top1 {acc:.4f} lr {lr_at(step-1):.2e} "
                  f"epoch_time {ep_time:.0f}s train_total {train_seconds:.0f}s", flush=True)
            if args.max_steps and step >= args.max_steps:
                break
        tree = vit_to_tree(model) if args.model == "vit" else mixer_to_tree(model)
        save_npz(args.out, tree)
    else:
        tree = load_npz(args.out)
        load_tree_into(model, args.model, tree)

    te = time.time()
    full = metrics(torch_logits(model, xt), y_test)
    sub = metrics(torch_logits(model, xst), ys_test)
    chk = check_export(args.model, args.out, model, xt, y_test)
    chk_sub = check_export(args.model, args.out, model, xst, ys_test)
    chk["subset_numpy_top1"] = chk_sub["numpy_top1"]
    chk["subset_argmax_disagreements"] = chk_sub["argmax_disagreements"]
    eval_seconds = time.time() - te
    print(f"[{args.model}] FULL test top1 {full['top1']:.4f} top5 {full['top5']:.4f} | "
          f"subset top1 {sub['top1']:.4f}", flush=True)
    print(f"[{args.model}] export check {json.dumps(chk)}", flush=True)

    argv = [f"--model {args.model}", f"--out {args.out}", f"--epochs {args.epochs}",
            f"--seed {args.seed}"] + overridden + (
                [f"--init-from {args.init_from}"] if args.init_from else []) + (
                [f"--teacher {args.teacher} --distill-alpha {args.distill_alpha:g} "
                 f"--distill-temp {args.distill_temp:g}"] if args.teacher else [])
    stage = {
        "command_args": " ".join(argv),
        "epochs": args.epochs,
        "steps": total_steps if not args.max_steps else step,
        "seed": args.seed,
        "recipe": {k: cfg[k] for k in RECIPE_KEYS},
        "train_seconds": train_seconds,
        "finished_utc": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"),
        "test_top1": full["top1"],
    }
    if args.teacher and not args.check_only:
        stage["distill"] = teacher_record(args.teacher, args.distill_alpha, args.distill_temp)
    if args.check_only:
        stages = prev.get("stages") or [stage_of(prev)]
    else:
        stages = stages_before(args.init_from) + [stage]
    res = {
        "model": args.model,
        "config": cfg,
        "params": param_count(tree),
        "npz_bytes": os.path.getsize(args.out),
        "epochs": prev.get("epochs", args.epochs),
        "steps": prev.get("steps", total_steps if not args.max_steps else step),
        "seed": prev.get("seed", args.seed),
        "command_args": prev.get("command_args", " ".join(argv)),
        "train_seconds": prev.get("train_seconds", train_seconds),
        "eval_seconds": eval_seconds,
        "note": args.note or prev.get("note", ""),
        "finished_utc": prev.get("finished_utc", datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")),
        "machine": prev.get("machine", machine_info()),
        "test": full,
        "subset": sub,
        "export_check": chk,
        "stages": stages,
    }
    with open(sidecar, "w") as f:
        json.dump(res, f, indent=2)
    card = os.path.splitext(args.out)[0] + ".md"
    write_card(args.model, card, res)
    print(f"[{args.model}] wrote {args.out}, {sidecar}, {card}", flush=True)
    if not chk["pass"]:
        print("EXPORT CHECK FAILED", file=sys.stderr)
        sys.exit(1)


def load_tree_into(model, kind, w):
    """Inverse of *_to_tree (used by --check-only)."""
    def setp(p, arr):
        with torch.no_grad():
            p.copy_(torch.from_numpy(np.ascontiguousarray(arr)))

    def dense(prefix, lin):
        setp(lin.weight, w[f"{prefix}/kernel"].T)
        setp(lin.bias, w[f"{prefix}/bias"])

    def ln(prefix, m):
        setp(m.weight, w[f"{prefix}/scale"])
        setp(m.bias, w[f"{prefix}/bias"])

    def conv(prefix, c):
        setp(c.weight, w[f"{prefix}/kernel"].transpose(3, 2, 0, 1))
        setp(c.bias, w[f"{prefix}/bias"])

    if kind == "vit":
        conv("embedding", model.embedding)
        setp(model.cls, w["cls"])
        setp(model.pos_embedding, w["Transformer/posembed_input/pos_embedding"])
        for l, b in enumerate(model.blocks):
            p = f"Transformer/encoderblock_{l}"
            a = f"{p}/MultiHeadDotProductAttention_1"
            ln(f"{p}/LayerNorm_0", b.LayerNorm_0)
            for name in ("query", "key", "value"):
                lin = getattr(b.attn, name)
                k = w[f"{a}/{name}/kernel"]
                setp(lin.weight, k.reshape(k.shape[0], -1).T)
                setp(lin.bias, w[f"{a}/{name}/bias"].reshape(-1))
            k = w[f"{a}/out/kernel"]
            setp(b.attn.out.weight, k.reshape(-1, k.shape[-1]).T)
            setp(b.attn.out.bias, w[f"{a}/out/bias"])
            ln(f"{p}/LayerNorm_2", b.LayerNorm_2)
            dense(f"{p}/MlpBlock_3/Dense_0", b.mlp.Dense_0)
            dense(f"{p}/MlpBlock_3/Dense_1", b.mlp.Dense_1)
        ln("Transformer/encoder_norm", model.encoder_norm)
    else:
        conv("stem", model.stem)
        for i, b in enumerate(model.blocks):
            p = f"MixerBlock_{i}"
            ln(f"{p}/LayerNorm_0", b.LayerNorm_0)
            dense(f"{p}/token_mixing/Dense_0", b.token_mixing.Dense_0)
            dense(f"{p}/token_mixing/Dense_1", b.token_mixing.Dense_1)
            ln(f"{p}/LayerNorm_1", b.LayerNorm_1)
            dense(f"{p}/channel_mixing/Dense_0", b.channel_mixing.Dense_0)
            dense(f"{p}/channel_mixing/Dense_1", b.channel_mixing.Dense_1)
        ln("pre_head_layer_norm", model.pre_head_layer_norm)
    dense("head", model.head)


if __name__ == "__main__":
    main()
