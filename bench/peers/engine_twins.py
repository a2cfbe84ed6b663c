"""PyTorch twins of `npm run bench:engine`'s workloads (packages/nn/bench/engine-workloads.ts): same shapes, same
optimizer, same loss, eager mode on the CPU. Prints one JSON line:
{"workload", "threads", "stepsPerSec", "cpuSecondsPerStep", "steps", "seconds"}.

Usage: python3 bench/peers/engine_twins.py --workload lm|tokenizer|generator [--threads 1] [--seconds 10]
(Debian's python3-torch needs libopenblas0-pthread, or it falls back to the reference BLAS.)
"""
import argparse
import json
import math
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def gelu(x):
    return F.gelu(x, approximate="tanh")


class Attention(nn.Module):
    """Multi-head attention with q/k/v/o projections (as @synth2/nn's MultiHeadAttention)."""

    def __init__(self, d, heads, kv_dim=None):
        super().__init__()
        kv_dim = kv_dim or d
        self.h, self.hd = heads, d // heads
        self.q, self.k, self.v, self.o = nn.Linear(d, d), nn.Linear(kv_dim, d), nn.Linear(kv_dim, d), nn.Linear(d, d)

    def forward(self, x, ctx=None, causal_mask=None, key_mask=None):
        ctx = x if ctx is None else ctx
        b, tq, d = x.shape
        tk = ctx.shape[1]
        split = lambda t, n: t.view(b, n, self.h, self.hd).transpose(1, 2)
        q = split(self.q(x) / math.sqrt(self.hd), tq)
        k, v = split(self.k(ctx), tk), split(self.v(ctx), tk)
        s = q @ k.transpose(-1, -2)
        if causal_mask is not None:
            s = s + causal_mask
        if key_mask is not None:
            s = s + ((1 - key_mask) * -1e9).view(b, 1, 1, tk)
        out = (s.softmax(-1) @ v).transpose(1, 2).reshape(b, tq, d)
        return self.o(out)


class Block(nn.Module):
    """Pre-LN transformer block, optional cross-attention, MLP d → 4d → d with tanh GELU."""

    def __init__(self, d, heads, cross=False):
        super().__init__()
        self.ln1, self.attn = nn.LayerNorm(d), Attention(d, heads)
        self.cross = cross
        if cross:
            self.lnc, self.xattn = nn.LayerNorm(d), Attention(d, heads)
        self.ln2, self.fc1, self.fc2 = nn.LayerNorm(d), nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x, causal_mask=None, key_mask=None, ctx=None, ctx_mask=None):
        x = x + self.attn(self.ln1(x), causal_mask=causal_mask, key_mask=key_mask)
        if self.cross:
            x = x + self.xattn(self.lnc(x), ctx=ctx, key_mask=ctx_mask)
        return x + self.fc2(gelu(self.fc1(self.ln2(x))))


# ---- (1) the reference LM: 4 layers, d 256, 4 heads, seq 32, vocab 2,000, batch 32, Adam ----------------------
class Lm(nn.Module):
    def __init__(self, layers=4, d=256, heads=4, seq=32, vocab=2000):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        self.pos = nn.Parameter(torch.randn(seq, d) * 0.02)
        self.blocks = nn.ModuleList([Block(d, heads) for _ in range(layers)])
        self.lnf, self.head = nn.LayerNorm(d), nn.Linear(d, vocab, bias=False)
        self.register_buffer("mask", torch.triu(torch.full((seq, seq), -1e9), 1))

    def forward(self, ids, targets):
        x = self.embed(ids) + self.pos
        for b in self.blocks:
            x = b(x, causal_mask=self.mask)
        logits = self.head(self.lnf(x))
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.reshape(-1))


def lm_workload():
    g = torch.Generator().manual_seed(0)
    model = Lm()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    batches = [torch.randint(0, 2000, (32, 33), generator=g) for _ in range(4)]

    def step(i):
        ids = batches[i % 4]
        loss = model(ids[:, :-1], ids[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    return step


# ---- (2) the demo's VQ tokenizer: 32×32×3, hidden [32], 1 res block, 128 codes × 32, batch 32, lr 3e-3 ----------
class ResConv(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(c, c, 3, padding=1), nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return x + self.c2(F.relu(self.c1(F.relu(x))))


class Tokenizer(nn.Module):
    def __init__(self, hidden=32, codes=128, code_dim=32):
        super().__init__()
        self.down = nn.Conv2d(3, hidden, 4, stride=2, padding=1)
        self.enc_res, self.enc_out = ResConv(hidden), nn.Conv2d(hidden, code_dim, 1)
        self.codebook = nn.Parameter(torch.rand(codes, code_dim) * 2 / codes - 1 / codes)
        self.dec_in, self.dec_res = nn.Conv2d(code_dim, hidden, 1), ResConv(hidden)
        self.up = nn.ConvTranspose2d(hidden, hidden, 4, stride=2, padding=1)
        self.out = nn.Conv2d(hidden, 3, 3, padding=1)

    def forward(self, x, commitment=0.25):
        z = self.enc_out(F.relu(self.enc_res(F.relu(self.down(x)))))  # [B, d, 16, 16]
        b, d, h, w = z.shape
        flat = z.permute(0, 2, 3, 1).reshape(-1, d)
        zd = flat.detach()
        with torch.no_grad():
            dist = (zd * zd).sum(1, keepdim=True) - 2 * zd @ self.codebook.t() + (self.codebook * self.codebook).sum(1)
            ids = dist.argmin(1)
        q = F.one_hot(ids, self.codebook.shape[0]).float() @ self.codebook
        qd = q.detach()
        codebook_loss = ((zd - q) ** 2).mean()
        commit_loss = ((flat - qd) ** 2).mean()
        st = (flat + (qd - zd)).view(b, h, w, d).permute(0, 3, 1, 2)
        rec = self.out(F.relu(self.up(F.relu(self.dec_res(self.dec_in(st))))))
        return ((rec - x) ** 2).mean() + codebook_loss + commitment * commit_loss


def tokenizer_workload():
    torch.manual_seed(1)
    model = Tokenizer()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0)
    images = torch.rand(256, 3, 32, 32)

    def step(i):
        idx = torch.randint(0, 256, (32,))
        loss = model(images[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    return step


# ---- (3) the demo's caption → token generator: d 64, 4 heads, 3 layers (+ 1 caption layer), group 4 (16 positions
# of 16 tokens), 128 codes read and predicted through a 32-d codebook, 3×3 conv branch per block, batch 64, AdamW
# lr 4e-3 wd 0.01, clip 1; the loss scores masked positions only (cosine-schedule mask counts) -----------------------
class Generator(nn.Module):
    def __init__(self, vocab=30, L=16, d=64, heads=4, layers=3, cap_layers=1, P=16, G=16, K=128, cd=32):
        super().__init__()
        self.P, self.G, self.K, self.cd, self.d = P, G, K, cd, d
        self.words = nn.Embedding(vocab + 1, d)
        self.word_pos = nn.Parameter(torch.randn(L, d) * 0.02)
        self.cap_blocks = nn.ModuleList([Block(d, heads) for _ in range(cap_layers)])
        self.cap_norm, self.pooled = nn.LayerNorm(d), nn.Linear(d, d)
        self.tok = nn.Embedding(G * (K + 1), d)
        self.grid_pos = nn.Parameter(torch.randn(P, d) * 0.02)
        self.register_buffer("codebook", torch.randn(K, cd))
        self.code_in, self.code_out = nn.Linear(G * cd, d), nn.Linear(d, G * cd)
        self.conv_norms = nn.ModuleList([nn.LayerNorm(d) for _ in range(layers)])
        self.convs = nn.ModuleList([nn.Conv2d(d, d, 3, padding=1) for _ in range(layers)])
        self.conv_outs = nn.ModuleList([nn.Linear(d, d) for _ in range(layers)])
        self.blocks = nn.ModuleList([Block(d, heads, cross=True) for _ in range(layers)])
        self.out_norm, self.head = nn.LayerNorm(d), nn.Linear(d, G * K)

    def forward(self, words, word_mask, slots, rows, targets, weights):
        B = words.shape[0]
        P, G, K, cd, d = self.P, self.G, self.K, self.cd, self.d
        h = self.words(words) + self.word_pos
        for b in self.cap_blocks:
            h = b(h, key_mask=word_mask)
        ctx = self.cap_norm(h)
        m = word_mask.unsqueeze(2)
        pooled = self.pooled((ctx * m).sum(1) / m.sum(1).clamp(min=1))
        x = self.tok(slots).sum(2)  # [B, P, d]
        table = torch.cat([self.codebook, torch.zeros(1, cd)], 0)
        x = x + self.code_in(table[slots % (K + 1)].view(B, P, G * cd))
        x = x + pooled.unsqueeze(1) + self.grid_pos
        side = int(math.sqrt(P))
        for norm, conv, out, block in zip(self.conv_norms, self.convs, self.conv_outs, self.blocks):
            grid = norm(x).view(B, side, side, d).permute(0, 3, 1, 2)
            x = x + out(gelu(conv(grid)).permute(0, 2, 3, 1).reshape(B, P, d))
            x = block(x, ctx=ctx, ctx_mask=word_mask)
        out = self.out_norm(x).reshape(B * P, d)[rows]
        logits = self.head(out).view(-1, K) + self.code_out(out).view(-1, cd) @ self.codebook.t()
        ce = F.cross_entropy(logits, targets, reduction="none")
        return (ce * weights).sum() / weights.sum().clamp(min=1e-12)


def generator_workload():
    torch.manual_seed(2)
    B, L, P, G, K, vocab = 64, 16, 16, 16, 128, 30
    model = Generator(vocab=vocab)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    rest = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0}], lr=4e-3)

    def batch():
        words = torch.randint(0, vocab, (B, L))
        word_mask = (torch.arange(L) < 11).float().expand(B, L).contiguous()
        targets = torch.randint(0, K, (B, P, G))
        slots = targets.clone()
        scored = []
        for b in range(B):
            n = min(P, max(1, math.ceil(math.cos(math.pi / 2 * torch.rand(1).item()) * P)))
            for p in torch.randperm(P)[:n].tolist():
                slots[b, p] = K
                scored.append(b * P + p)
        slots = slots + torch.arange(G) * (K + 1)
        rows = torch.tensor(sorted(scored))
        return words, word_mask, slots, rows, targets.view(B * P, G)[rows].reshape(-1), torch.ones(len(rows) * G)

    def step(i):
        loss = model(*batch())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    return step


WORKLOADS = {"lm": lm_workload, "tokenizer": tokenizer_workload, "generator": generator_workload}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workload", choices=sorted(WORKLOADS), required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=10)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    step = WORKLOADS[a.workload]()
    for i in range(3):  # warm-up
        step(i)
    cpu = lambda: (lambda r: r.ru_utime + r.ru_stime)(resource.getrusage(resource.RUSAGE_SELF))
    t0, c0, n = time.perf_counter(), cpu(), 0
    while time.perf_counter() - t0 < a.seconds:
        step(3 + n)
        n += 1
    seconds = time.perf_counter() - t0
    print(json.dumps({"workload": a.workload, "threads": a.threads, "stepsPerSec": round(n / seconds, 4),
                      "cpuSecondsPerStep": round((cpu() - c0) / n, 4), "steps": n, "seconds": round(seconds, 3),
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
