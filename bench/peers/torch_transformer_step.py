"""PyTorch peer for `npm run bench -- train`: one training step (forward, backward, Adam) of the small-preset
Time-Series-Library Transformer on batch 32, seq 96 / label 48 / pred 96, 7 channels, 4 time features,
on ONE thread. Written for sparsecast's benchmarks from the architecture's description (post-norm
encoder/decoder, circular token conv, sinusoidal positions, timeF linear, GELU FFN as kernel-1 convs,
causal decoder self-attention); it is a timing peer, not a copy of TSLib.

Prints one JSON line: {"bench":"train","impl":"pytorch","model":"Transformer","preset":...,"step_ms":...,"eval_batch_ms":...}
With `--epoch STEPS EVAL_BATCHES`: one epoch as TSLib's loop runs it instead (STEPS training steps in train mode,
then EVAL_BATCHES forward passes in eval mode under no_grad, each with its MSE loss taken as a Python float as
TSLib's vali() does), timed end to end: {"bench":"train-epoch","impl":"pytorch",...,"epoch_s":...}.
With `--infer RUNS`: the median of RUNS eval-mode forwards of one window (batch 1) under no_grad, the peer of
`npm run bench -- infer`: {"bench":"infer","impl":"pytorch",...,"batch":1,"ms":...}.
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(2020)

PRESETS = {"small": (64, 4, 2, 1, 256), "full": (512, 8, 2, 1, 2048)}
preset = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else "small"
epoch = sys.argv.index("--epoch") if "--epoch" in sys.argv else None
infer = sys.argv.index("--infer") if "--infer" in sys.argv else None
D, H, E_LAYERS, D_LAYERS, DFF = PRESETS[preset]
B, SEQ, LABEL, PRED, C, MARKS, DROPOUT = 32, 96, 48, 96, 7, 4, 0.05


class Embedding(nn.Module):
    def __init__(self):
        super().__init__()
        self.token = nn.Conv1d(C, D, 3, padding=1, padding_mode="circular", bias=False)
        self.temporal = nn.Linear(MARKS, D, bias=False)
        pos = torch.arange(5000).unsqueeze(1).float()
        div = torch.exp(torch.arange(0, D, 2).float() * -(math.log(10000.0) / D))
        pe = torch.zeros(5000, D)
        pe[:, 0::2] = torch.sin(pos * div)
        pe[:, 1::2] = torch.cos(pos * div)
        self.register_buffer("pe", pe.unsqueeze(0))
        self.drop = nn.Dropout(DROPOUT)

    def forward(self, x, mark):
        v = self.token(x.transpose(1, 2)).transpose(1, 2)
        return self.drop(v + self.temporal(mark) + self.pe[:, : x.size(1)])


class Attention(nn.Module):
    def __init__(self, causal):
        super().__init__()
        self.causal = causal
        self.q, self.k, self.v, self.o = (nn.Linear(D, D) for _ in range(4))
        self.drop = nn.Dropout(DROPOUT)

    def forward(self, q, k, v):
        b, l, _ = q.shape
        s = k.size(1)
        q = self.q(q).view(b, l, H, -1).transpose(1, 2)
        k = self.k(k).view(b, s, H, -1).transpose(1, 2)
        v = self.v(v).view(b, s, H, -1).transpose(1, 2)
        scores = q @ k.transpose(-1, -2) / math.sqrt(q.size(-1))
        if self.causal:
            scores = scores.masked_fill(torch.triu(torch.ones(l, s, dtype=torch.bool), 1), float("-inf"))
        a = self.drop(torch.softmax(scores, -1))
        return self.o((a @ v).transpose(1, 2).reshape(b, l, -1))


class FFN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(D, DFF, 1)
        self.c2 = nn.Conv1d(DFF, D, 1)
        self.drop = nn.Dropout(DROPOUT)

    def forward(self, x):
        y = self.drop(F.gelu(self.c1(x.transpose(-1, 1))))
        return self.drop(self.c2(y).transpose(-1, 1))


class EncoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn, self.ffn = Attention(False), FFN()
        self.n1, self.n2 = nn.LayerNorm(D), nn.LayerNorm(D)
        self.drop = nn.Dropout(DROPOUT)

    def forward(self, x):
        x = self.n1(x + self.drop(self.attn(x, x, x)))
        return self.n2(x + self.ffn(x))


class DecoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.self_attn, self.cross, self.ffn = Attention(True), Attention(False), FFN()
        self.n1, self.n2, self.n3 = nn.LayerNorm(D), nn.LayerNorm(D), nn.LayerNorm(D)
        self.drop = nn.Dropout(DROPOUT)

    def forward(self, x, enc):
        x = self.n1(x + self.drop(self.self_attn(x, x, x)))
        x = self.n2(x + self.drop(self.cross(x, enc, enc)))
        return self.n3(x + self.ffn(x))


class Transformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc_emb, self.dec_emb = Embedding(), Embedding()
        self.enc = nn.ModuleList(EncoderLayer() for _ in range(E_LAYERS))
        self.dec = nn.ModuleList(DecoderLayer() for _ in range(D_LAYERS))
        self.enc_norm, self.dec_norm = nn.LayerNorm(D), nn.LayerNorm(D)
        self.proj = nn.Linear(D, C)

    def forward(self, x, xm, y, ym):
        e = self.enc_emb(x, xm)
        for layer in self.enc:
            e = layer(e)
        e = self.enc_norm(e)
        d = self.dec_emb(y, ym)
        for layer in self.dec:
            d = layer(d, e)
        return self.proj(self.dec_norm(d))[:, -PRED:]


model = Transformer()
opt = torch.optim.Adam(model.parameters(), lr=1e-4)
x, xm = torch.randn(B, SEQ, C), torch.rand(B, SEQ, MARKS) - 0.5
y, ym = torch.randn(B, LABEL + PRED, C), torch.rand(B, LABEL + PRED, MARKS) - 0.5
dec = torch.cat([y[:, :LABEL], torch.zeros(B, PRED, C)], 1)


def step():
    opt.zero_grad()
    loss = F.mse_loss(model(x, xm, dec, ym), y[:, -PRED:])
    loss.backward()
    opt.step()


def median_ms(fn, runs=7, warmup=2):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1000)
    ts.sort()
    return ts[len(ts) // 2]


if infer is not None:
    # Online forecasting: one window (batch 1), eval mode, no_grad — what `sparsecast/infer`'s forecast() does.
    runs = int(sys.argv[infer + 1])
    model.eval()
    with torch.no_grad():
        b1_ms = median_ms(lambda: model(x[:1], xm[:1], dec[:1], ym[:1]), runs=runs, warmup=5)
    print(json.dumps({"bench": "infer", "impl": "pytorch", "model": "Transformer", "preset": preset, "threads": torch.get_num_threads(),
                      "torch": torch.__version__, "batch": 1, "runs": runs, "ms": round(b1_ms, 3)}))
    sys.exit(0)

if epoch is not None:
    steps, eval_batches = int(sys.argv[epoch + 1]), int(sys.argv[epoch + 2])
    t0 = time.perf_counter()
    model.train()
    for _ in range(steps):
        step()
    model.eval()
    with torch.no_grad():
        for _ in range(eval_batches):
            F.mse_loss(model(x, xm, dec, ym), y[:, -PRED:]).item()
    print(json.dumps({"bench": "train-epoch", "impl": "pytorch", "model": "Transformer", "preset": preset, "threads": torch.get_num_threads(),
                      "torch": torch.__version__, "steps": steps, "eval_batches": eval_batches, "epoch_s": round(time.perf_counter() - t0, 2)}))
    sys.exit(0)

model.train()
step_ms = median_ms(step)
model.eval()
with torch.no_grad():
    eval_ms = median_ms(lambda: model(x, xm, dec, ym))
print(json.dumps({"bench": "train", "impl": "pytorch", "model": "Transformer", "preset": preset, "threads": torch.get_num_threads(),
                  "torch": torch.__version__, "step_ms": round(step_ms, 1), "eval_batch_ms": round(eval_ms, 1)}))
