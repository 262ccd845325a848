#!/usr/bin/env python3
"""Write small "foreign" ViT ONNX models for vitopt's quantization tests: graphs exported by
PyTorch the way users bring them, not by vitopt.

  test/fixtures/foreign-vit.onnx     torchvision-style (vision_transformer.py): conv_proj, class
                                     token, nn.MultiheadAttention with packed in_proj, exact GELU,
                                     head as nn.Linear on the class token (a Gemm in ONNX)
  test/fixtures/foreign-vit-hf.onnx  Hugging Face ViTForImageClassification-style: separate
                                     query/key/value Linear layers, LayerNorm eps 1e-12

Random weights (seeded), 32x32 input, patch 8, width 48, 3 heads, 2 layers, 10 classes: a few
hundred KB each. Input `pixels` float32 [batch, 3, 32, 32], output `logits` [batch, 10].

Usage: /usr/bin/python3 tools/make_foreign_vit.py   (Debian's torch 1.13 + onnx 1.12; run from the repo root)
"""
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

IMAGE, PATCH, WIDTH, HEADS, LAYERS, MLP, CLASSES = 32, 8, 48, 3, 2, 96, 10


class TorchvisionBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = nn.LayerNorm(WIDTH, eps=1e-6)
        self.self_attention = nn.MultiheadAttention(WIDTH, HEADS, batch_first=True)
        self.ln_2 = nn.LayerNorm(WIDTH, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(WIDTH, MLP), nn.GELU(), nn.Linear(MLP, WIDTH))

    def forward(self, x):
        y = self.ln_1(x)
        y, _ = self.self_attention(y, y, y, need_weights=False)
        x = x + y
        return x + self.mlp(self.ln_2(x))


class TorchvisionViT(nn.Module):
    def __init__(self):
        super().__init__()
        n = (IMAGE // PATCH) ** 2
        self.conv_proj = nn.Conv2d(3, WIDTH, PATCH, stride=PATCH)
        self.class_token = nn.Parameter(torch.randn(1, 1, WIDTH) * 0.5)
        self.pos_embedding = nn.Parameter(torch.randn(1, n + 1, WIDTH) * 0.5)
        self.layers = nn.Sequential(*[TorchvisionBlock() for _ in range(LAYERS)])
        self.ln = nn.LayerNorm(WIDTH, eps=1e-6)
        self.head = nn.Linear(WIDTH, CLASSES)

    def forward(self, pixels):
        x = self.conv_proj(pixels).flatten(2).transpose(1, 2)
        cls = self.class_token.expand(x.shape[0], -1, -1)
        x = torch.cat([cls, x], dim=1) + self.pos_embedding
        x = self.ln(self.layers(x))
        return self.head(x[:, 0])


class HfSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.query = nn.Linear(WIDTH, WIDTH)
        self.key = nn.Linear(WIDTH, WIDTH)
        self.value = nn.Linear(WIDTH, WIDTH)
        self.dense = nn.Linear(WIDTH, WIDTH)

    def heads(self, x):
        b, t, _ = x.shape
        return x.view(b, t, HEADS, WIDTH // HEADS).permute(0, 2, 1, 3)

    def forward(self, x):
        q, k, v = self.heads(self.query(x)), self.heads(self.key(x)), self.heads(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(WIDTH // HEADS)
        ctx = torch.matmul(F.softmax(scores, dim=-1), v).permute(0, 2, 1, 3).contiguous()
        return self.dense(ctx.view(x.shape[0], x.shape[1], WIDTH))


class HfLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.layernorm_before = nn.LayerNorm(WIDTH, eps=1e-12)
        self.attention = HfSelfAttention()
        self.layernorm_after = nn.LayerNorm(WIDTH, eps=1e-12)
        self.intermediate = nn.Linear(WIDTH, MLP)
        self.output = nn.Linear(MLP, WIDTH)

    def forward(self, x):
        x = x + self.attention(self.layernorm_before(x))
        return x + self.output(F.gelu(self.intermediate(self.layernorm_after(x))))


class HfViT(nn.Module):
    def __init__(self):
        super().__init__()
        n = (IMAGE // PATCH) ** 2
        self.projection = nn.Conv2d(3, WIDTH, PATCH, stride=PATCH)
        self.cls_token = nn.Parameter(torch.randn(1, 1, WIDTH) * 0.5)
        self.position_embeddings = nn.Parameter(torch.randn(1, n + 1, WIDTH) * 0.5)
        self.layer = nn.ModuleList([HfLayer() for _ in range(LAYERS)])
        self.layernorm = nn.LayerNorm(WIDTH, eps=1e-12)
        self.classifier = nn.Linear(WIDTH, CLASSES)

    def forward(self, pixels):
        x = self.projection(pixels).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.position_embeddings
        for layer in self.layer:
            x = layer(x)
        return self.classifier(self.layernorm(x)[:, 0, :])


def export(model, path):
    model.eval()
    x = torch.randn(2, 3, IMAGE, IMAGE)
    with torch.no_grad():
        torch.onnx.export(model, (x,), path, input_names=["pixels"], output_names=["logits"],
                          dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}},
                          opset_version=14, do_constant_folding=True)
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = sorted({n.op_type for n in m.graph.node})
    print(f"{path}: {os.path.getsize(path)} bytes, {len(m.graph.node)} nodes, ops {ops}")


def main():
    out = os.path.join("test", "fixtures")
    if not os.path.isdir(out):
        sys.exit("run from the repository root (test/fixtures/ not found)")
    torch.manual_seed(0)
    export(TorchvisionViT(), os.path.join(out, "foreign-vit.onnx"))
    torch.manual_seed(1)
    export(HfViT(), os.path.join(out, "foreign-vit-hf.onnx"))


if __name__ == "__main__":
    main()
