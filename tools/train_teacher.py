#!/usr/bin/env python3
"""Train a small CNN on Fashion-MNIST to serve as the distillation teacher for the
reference ViT (tools/train_fashion.py --teacher).

Why a CNN teacher: a ViT trained from scratch on 60,000 small images overfits before it
generalises (its patch-4 run reaches 94% train / 89% test); a convnet's locality prior
reaches ~93% test on the same data in a few epochs, and distilling its soft outputs into
the ViT (Hinton et al. 2015; DeiT, Touvron et al. 2021, teacher = convnet) transfers that
prior without changing the ViT's architecture. The teacher is a training aid only: it is
not shipped, not needed by users, npm, tests or CI.

Input: the ViT's own training input (NCHW float32 in [-1, 1], grey replicated to RGB, as
produced by train_fashion.augment_batch); the teacher reads channel 0. Output: a TorchScript
file (traced) and a JSON sidecar with its recipe and test accuracy.

Usage:
  /usr/bin/python3 tools/train_teacher.py --out /tmp/teacher.pt --epochs 6 --seed 0
"""
import argparse
import datetime
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_fashion as tf  # noqa: E402  (sizes the BLAS/OpenMP pools from --threads on import)

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


class TeacherCNN(nn.Module):
    """conv-BN-ReLU ×2, pool, ×2, pool, ×1, dropout, linear: ~22 M MACs per image."""

    def __init__(self):
        super().__init__()

        def block(i, o):
            return [nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*block(1, 32), *block(32, 32), nn.MaxPool2d(2),
                                      *block(32, 64), *block(64, 64), nn.MaxPool2d(2),
                                      *block(64, 128))
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(128 * 7 * 7, 10))

    def forward(self, x):  # x: NCHW, 3 identical channels
        return self.head(self.features(x[:, :1]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True, help="TorchScript output path (.pt)")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--pad", type=int, default=2)
    ap.add_argument("--hflip", type=int, default=1)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    x_train, y_train = tf.load_split(args.data, "train")
    x_test, y_test = tf.load_split(args.data, "t10k")
    xt = tf.eval_preprocess(x_test, 28)

    model = TeacherCNN()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.05)
    steps_per_epoch = len(x_train) // args.batch
    total = steps_per_epoch * args.epochs
    g_order = torch.Generator().manual_seed(args.seed + 1)
    g_aug = torch.Generator().manual_seed(args.seed + 2)
    xtr, ytr = torch.from_numpy(x_train), torch.from_numpy(y_train)
    step, t0 = 0, time.time()
    for ep in range(args.epochs):
        model.train()
        perm = torch.randperm(len(xtr), generator=g_order)
        for bi in range(steps_per_epoch):
            idx = perm[bi * args.batch:(bi + 1) * args.batch]
            xb = tf.augment_batch(xtr[idx], g_aug, args.pad, bool(args.hflip), 28)
            for grp in opt.param_groups:  # cosine from step 0: with BatchNorm the CNN trains stably without warm-up
                grp["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * step / total))
            loss = F.cross_entropy(model(xb), ytr[idx], label_smoothing=0.1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if (bi + 1) % 100 == 0:
                print(f"  step {bi+1}/{steps_per_epoch} loss {loss.item():.4f} {time.time()-t0:.0f}s", flush=True)
        acc = float((tf.torch_logits(model, xt).argmax(1) == y_test).mean())
        print(f"[teacher] epoch {ep+1}/{args.epochs} test_top1 {acc:.4f} {time.time()-t0:.0f}s", flush=True)
    train_seconds = time.time() - t0
    model.eval()
    scripted = torch.jit.trace(model, torch.zeros(1, 3, 28, 28))
    scripted.save(args.out)
    acc = float((tf.torch_logits(model, xt).argmax(1) == y_test).mean())
    side = {"command_args": " ".join(sys.argv[1:]), "test_top1": acc, "train_seconds": train_seconds,
            "params": sum(p.numel() for p in model.parameters()),
            "finished_utc": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")}
    with open(os.path.splitext(args.out)[0] + ".json", "w") as f:
        json.dump(side, f, indent=2)
    print(f"[teacher] wrote {args.out}: test top-1 {acc:.4f}, {train_seconds:.0f} s", flush=True)


if __name__ == "__main__":
    main()
