#!/usr/bin/python3
"""PyTorch side of emberdb-embed-bench: the same BERT encoder workload in eager PyTorch.

The encoder is written with the same torch ops as HF transformers' BertModel (eager attention:
Linear q/k/v, matmul, additive mask, softmax, matmul, Linear, LayerNorm, exact-erf GELU) followed
by sentence-transformers mean pooling + Normalize. Weights are random (only speed is measured).
Passages are sorted by length and run in the same padded batches as emberdb uses (at most
max_texts texts and max_tokens padded tokens per batch). Input: a JSON file {"config": {...},
"lengths": [...], "threads": N, "max_texts": T, "max_tokens": K, "min_seconds": S}. Output: one JSON line with the timings.

Usage: /usr/bin/python3 torch_bench.py WORKLOAD.json   (Debian: apt-get install python3-torch)
"""
import json
import math
import sys
import time

import torch


def make_layer(h, inter):
    def lin(o, i):
        layer = torch.nn.Linear(i, o)
        torch.nn.init.normal_(layer.weight, std=0.05)
        return layer
    return {
        "q": lin(h, h), "k": lin(h, h), "v": lin(h, h), "o": lin(h, h),
        "ln1": torch.nn.LayerNorm(h, eps=1e-12), "i": lin(inter, h), "out": lin(h, inter),
        "ln2": torch.nn.LayerNorm(h, eps=1e-12),
    }


def encode(cfg, emb, layers, ids, mask):
    b, length = ids.shape
    h, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    d = h // nh
    x = emb["word"][ids] + emb["pos"][:length].unsqueeze(0) + emb["type"][0]
    x = emb["ln"](x)
    add_mask = (1.0 - mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
    for layer in layers:
        def heads(t):
            return t.view(b, length, nh, d).permute(0, 2, 1, 3)
        q, k, v = heads(layer["q"](x)), heads(layer["k"](x)), heads(layer["v"](x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d) + add_mask
        p = torch.softmax(scores, dim=-1)
        ctx = torch.matmul(p, v).permute(0, 2, 1, 3).reshape(b, length, h)
        a = layer["ln1"](layer["o"](ctx) + x)
        x = layer["ln2"](layer["out"](torch.nn.functional.gelu(layer["i"](a))) + a)
    m = mask.unsqueeze(-1).to(x.dtype)
    pooled = (x * m).sum(1) / m.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2, dim=1)


def main():
    work = json.load(open(sys.argv[1]))
    cfg, lengths = work["config"], work["lengths"]
    torch.set_num_threads(int(work["threads"]))
    torch.manual_seed(0)
    h = cfg["hidden_size"]
    emb = {
        "word": torch.randn(cfg["vocab_size"], h) * 0.05,
        "pos": torch.randn(cfg["max_position_embeddings"], h) * 0.05,
        "type": torch.randn(2, h) * 0.05,
        "ln": torch.nn.LayerNorm(h, eps=1e-12),
    }
    layers = [make_layer(h, cfg["intermediate_size"]) for _ in range(cfg["num_hidden_layers"])]
    gen = torch.Generator().manual_seed(1)
    seqs = [torch.randint(1000, 30000, (n,), generator=gen) for n in lengths]
    # The same batches as emberdb forms (bert_encoder.cc): sorted by length, at most
    # max_texts texts and max_tokens padded tokens each, so both sides compute the same padding.
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    groups, start = [], 0
    while start < len(order):
        end, longest = start, 0
        while end < len(order) and end - start < work["max_texts"]:
            length = max(longest, len(seqs[order[end]]))
            if end > start and length * (end - start + 1) > work["max_tokens"]:
                break
            longest, end = length, end + 1
        groups.append(order[start:end])
        start = end
    batches = []
    for group in groups:
        members = [seqs[i] for i in group]
        longest = max(len(s) for s in members)
        ids = torch.zeros(len(members), longest, dtype=torch.long)
        mask = torch.zeros(len(members), longest, dtype=torch.long)
        for r, s in enumerate(members):
            ids[r, :len(s)] = s
            mask[r, :len(s)] = 1
        batches.append((ids, mask))
    with torch.inference_mode():
        encode(cfg, emb, layers, *batches[-1])  # warm-up
        runs, start, cpu_start = 0, time.perf_counter(), time.process_time()
        while True:
            for ids, mask in batches:
                encode(cfg, emb, layers, ids, mask)
            runs += 1
            elapsed = time.perf_counter() - start
            if elapsed >= float(work["min_seconds"]):
                break
        cpu = time.process_time() - cpu_start
    tokens = sum(lengths) * runs
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                      "seconds": elapsed, "runs": runs, "tokens_per_s": tokens / elapsed, "tokens_per_cpu_s": tokens / cpu,
                      "passages_per_s": len(lengths) * runs / elapsed,
                      "batches": [int(b[0].shape[0]) for b in batches]}))


if __name__ == "__main__":
    main()
