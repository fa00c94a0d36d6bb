#!/usr/bin/python3
"""The PyTorch eager baseline for Sft.Bench: the same Qwen2 model, batch, sequence, threads and dtype,
trained the way a plain transformers + PEFT script does it, printing the same JSON keys.

Model: Hugging Face's Qwen2 eager path written out (transformers' `eager_attention_forward`: explicit
q·kᵀ·scale + additive causal mask, fp32 softmax cast back, ·v; `repeat_kv` by expand+reshape;
RMSNorm in fp32; rotate_half RoPE; SwiGLU MLP; tied or untied head; the loss on fp32 logits of every
position). LoRA as PEFT's `lora.Linear`: frozen base, `lora_B(lora_A(x)) * alpha/r`, A kaiming-uniform,
B zeros. Optimiser: torch.optim.AdamW with the HF Trainer's decay grouping, clip_grad_norm_(1.0).
bf16 means `model.to(torch.bfloat16)`: AdamW then keeps its state in bf16 (no fp32 master weights).

Run with Debian's python3-torch: /usr/bin/python3 bench/pytorch_eager.py step --model 50m ...
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIGS = {
    "50m": "qwen2-50m.json",
    "150m": "qwen2-150m.json",
    "qwen2.5-0.5b": "qwen2.5-0.5b.json",
}
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


class Config:
    def __init__(self, d):
        self.hidden = d["hidden_size"]
        self.intermediate = d["intermediate_size"]
        self.layers = d["num_hidden_layers"]
        self.heads = d["num_attention_heads"]
        self.kv_heads = d.get("num_key_value_heads", self.heads)
        self.head_dim = d.get("head_dim", self.hidden // self.heads)
        self.vocab = d["vocab_size"]
        self.tied = d.get("tie_word_embeddings", False)
        self.eps = d.get("rms_norm_eps", 1e-6)
        self.theta = d.get("rope_theta", 10000.0)
        self.init_range = d.get("initializer_range", 0.02)
        self.attention_dropout = d.get("attention_dropout", 0.0)


class RMSNorm(nn.Module):
    def __init__(self, size, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x):
        dtype = x.dtype
        h = x.to(torch.float32)
        variance = h.pow(2).mean(-1, keepdim=True)
        h = h * torch.rsqrt(variance + self.eps)
        return self.weight * h.to(dtype)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Rotary(nn.Module):
    def __init__(self, c):
        super().__init__()
        inv = 1.0 / (c.theta ** (torch.arange(0, c.head_dim, 2, dtype=torch.int64).float() / c.head_dim))
        self.register_buffer("inv_freq", inv, persistent=False)

    def forward(self, positions, dtype):  # positions [B, T]
        freqs = positions[:, :, None].float() * self.inv_freq[None, None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos().to(dtype), emb.sin().to(dtype)


def repeat_kv(x, n_rep):  # [B, nkv, T, hd] -> [B, nkv*n_rep, T, hd]
    if n_rep == 1:
        return x
    b, nkv, t, hd = x.shape
    return x[:, :, None, :, :].expand(b, nkv, n_rep, t, hd).reshape(b, nkv * n_rep, t, hd)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.q_proj = nn.Linear(c.hidden, c.heads * c.head_dim, bias=True)
        self.k_proj = nn.Linear(c.hidden, c.kv_heads * c.head_dim, bias=True)
        self.v_proj = nn.Linear(c.hidden, c.kv_heads * c.head_dim, bias=True)
        self.o_proj = nn.Linear(c.heads * c.head_dim, c.hidden, bias=False)

    def forward(self, x, cos, sin, mask):
        c = self.c
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, c.heads, c.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, c.kv_heads, c.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, c.kv_heads, c.head_dim).transpose(1, 2)
        cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        # transformers' eager_attention_forward
        k = repeat_kv(k, c.heads // c.kv_heads)
        v = repeat_kv(v, c.heads // c.kv_heads)
        w = torch.matmul(q, k.transpose(2, 3)) * (c.head_dim ** -0.5)
        w = w + mask
        w = F.softmax(w, dim=-1, dtype=torch.float32).to(q.dtype)
        w = F.dropout(w, p=c.attention_dropout, training=self.training)
        y = torch.matmul(w, v).transpose(1, 2).contiguous().reshape(b, t, -1)
        return self.o_proj(y)


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.gate_proj = nn.Linear(c.hidden, c.intermediate, bias=False)
        self.up_proj = nn.Linear(c.hidden, c.intermediate, bias=False)
        self.down_proj = nn.Linear(c.intermediate, c.hidden, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self_attn = Attention(c)
        self.mlp = MLP(c)
        self.input_layernorm = RMSNorm(c.hidden, c.eps)
        self.post_attention_layernorm = RMSNorm(c.hidden, c.eps)

    def forward(self, x, cos, sin, mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class Qwen2Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c.vocab, c.hidden)
        self.layers = nn.ModuleList(DecoderLayer(c) for _ in range(c.layers))
        self.norm = RMSNorm(c.hidden, c.eps)
        self.rotary_emb = Rotary(c)

    def forward(self, ids):
        b, t = ids.shape
        x = self.embed_tokens(ids)
        positions = torch.arange(t).expand(b, t)
        cos, sin = self.rotary_emb(positions, x.dtype)
        # transformers' 4D causal mask: 0 where allowed, the dtype's minimum above the diagonal
        mask = torch.full((t, t), torch.finfo(x.dtype).min, dtype=x.dtype).triu(1)[None, None]
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.norm(x)


class Qwen2ForCausalLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.model = Qwen2Model(c)
        self.lm_head = nn.Linear(c.hidden, c.vocab, bias=False)
        if c.tied:
            self.lm_head.weight = self.model.embed_tokens.weight

    def init_weights(self):  # transformers' _init_weights for Qwen2
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, (nn.Linear, nn.Embedding)):
                    m.weight.normal_(0.0, self.c.init_range)
                    if getattr(m, "bias", None) is not None:
                        m.bias.zero_()
                elif isinstance(m, RMSNorm):
                    m.weight.fill_(1.0)

    def loss(self, hidden, labels):  # transformers' ForCausalLMLoss: fp32 logits of every position
        logits = self.lm_head(hidden).float()
        labels = F.pad(labels, (0, 1), value=-100)[..., 1:]
        return F.cross_entropy(logits.view(-1, self.c.vocab), labels.reshape(-1), ignore_index=-100)


class LoraLinear(nn.Module):
    """PEFT's lora.Linear: result = base(x) + lora_B(lora_A(dropout(x))) * scaling."""

    def __init__(self, base, rank, alpha):
        super().__init__()
        self.base_layer = base
        self.lora_A = nn.Linear(base.in_features, rank, bias=False)
        self.lora_B = nn.Linear(rank, base.out_features, bias=False)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)
        self.lora_A.to(base.weight.dtype)
        self.lora_B.to(base.weight.dtype)
        self.scaling = alpha / rank

    def forward(self, x):
        return self.base_layer(x) + self.lora_B(self.lora_A(x)) * self.scaling


def inject_lora(model, rank):
    for p in model.parameters():
        p.requires_grad_(False)
    for layer in model.model.layers:
        for parent in (layer.self_attn, layer.mlp):
            for name in LORA_TARGETS:
                if hasattr(parent, name):
                    setattr(parent, name, LoraLinear(getattr(parent, name), rank, 2.0 * rank))


def adamw_groups(model):  # the HF Trainer's grouping: no decay for biases and norm weights
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if ("bias" in name or "norm" in name) else decay).append(p)
    return [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}]


def rss_mb(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"/proc/self/status has no {key} line (Linux only)")


def measure_matmul(dtype, n, repeats):
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    c = torch.empty(n, n, dtype=dtype)
    torch.mm(a, b, out=c)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b, out=c)
        best = min(best, time.perf_counter() - start)
    return 2.0 * n ** 3 / best / 1e9


def matmul(args):
    names = ["fp32", "bf16"] if args.dtype == "both" else [args.dtype]
    sizes = [int(s) for s in args.sizes.split(",")]
    for name in names:
        results = [{"n": n, "gflops": round(measure_matmul(DTYPES[name], n, args.repeats), 1)} for n in sizes]
        print(json.dumps({"kind": "matmul", "impl": "pytorch-eager", "dtype": name, "path": "native", "threads": torch.get_num_threads(),
                          "sizes": results, "peak_gflops": max(r["gflops"] for r in results)}), flush=True)


def step(args):
    dtype = DTYPES[args.dtype]
    peak, peak_source = args.peak_gflops, "--peak-gflops"
    if peak is None:
        peak, peak_source = measure_matmul(dtype, 2048, 3), "measured in-process (2048, best of 3)"
    config_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "configs", CONFIGS[args.model])
    with open(config_path) as f:
        c = Config(json.load(f))
    baseline = rss_mb("VmRSS:")
    torch.manual_seed(args.seed)
    model = Qwen2ForCausalLM(c)
    model.init_weights()
    model.to(dtype)
    total = sum(p.numel() for p in model.parameters())
    if args.mode == "lora":
        inject_lora(model, args.lora_rank)
    model.train()
    trained = sum(p.numel() for p in model.parameters() if p.requires_grad)
    optimizer = torch.optim.AdamW(adamw_groups(model), lr=1e-4)
    setup_rss = rss_mb("VmRSS:")  # weights, no step yet (AdamW state is created lazily at the first step)
    generator = torch.Generator().manual_seed(args.seed)

    times, cpu_times, faults, losses, phases = [], [], [], [], {}
    trainable = [p for p in model.parameters() if p.requires_grad]
    for i in range(args.warmup + args.steps):
        ids = torch.randint(0, c.vocab, (args.batch, args.seq), generator=generator)
        cpu = time.process_time()
        faulted = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        laps = [time.perf_counter()]
        hidden = model.model(ids)
        laps.append(time.perf_counter())
        loss = model.loss(hidden, ids)
        laps.append(time.perf_counter())
        loss.backward()
        laps.append(time.perf_counter())
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        laps.append(time.perf_counter())
        optimizer.step()
        optimizer.zero_grad()
        value = loss.item()
        laps.append(time.perf_counter())
        if i >= args.warmup:
            times.append((laps[-1] - laps[0]) * 1000)
            cpu_times.append((time.process_time() - cpu) * 1000)
            faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faulted)
            for name, a, b in zip(("forward", "loss", "backward", "clip", "optimizer"), laps, laps[1:]):
                phases.setdefault(name, []).append((b - a) * 1000)
        losses.append(value)

    lora = args.mode == "lora"
    adapters = trained if lora else 0
    matmul_params = (total if c.tied else total - c.vocab * c.hidden)
    attention = 12.0 * c.layers * c.heads * c.head_dim * args.seq
    flops_per_token = (4.0 * matmul_params + 6.0 * adapters if lora else 6.0 * matmul_params) + attention
    tokens = args.batch * args.seq
    median = statistics.median(times)
    tokens_per_s = tokens / (median / 1000)
    achieved = flops_per_token * tokens_per_s / 1e9
    peak_rss = rss_mb("VmHWM:")
    print(json.dumps({
        "kind": "step", "impl": "pytorch-eager", "model": args.model, "mode": args.mode, "dtype": args.dtype,
        "seq": args.seq, "batch": args.batch, "steps": args.steps, "warmup": args.warmup,
        "threads": torch.get_num_threads(), "recompute_layers": 0, "params_total": total + adapters,
        "params_trained": trained, "params_matmul": matmul_params, "tokens_per_step": tokens,
        "flops_per_token": flops_per_token, "step_ms_median": round(median, 1), "step_ms_min": round(min(times), 1),
        "step_ms_max": round(max(times), 1), "cpu_ms_median": round(statistics.median(cpu_times), 1),
        "minor_faults_median": int(statistics.median(faults)), "tokens_per_s": round(tokens_per_s, 1), "achieved_gflops": round(achieved, 1),
        "peak_gflops": round(peak, 1), "peak_source": peak_source, "mfu": round(achieved / peak, 4),
        "baseline_rss_mb": round(baseline, 1), "peak_rss_mb": round(peak_rss, 1), "setup_rss_mb": round(setup_rss, 1),
        "peak_above_baseline_mb": round(peak_rss - baseline, 1), "memory_model": None, "memory_model_total_mb": None,
        "loss_first": round(losses[0], 4), "loss_last": round(losses[-1], 4),
        "phase_ms_median": {name: round(statistics.median(v), 1) for name, v in phases.items()},
        "load_avg": open("/proc/loadavg").read().strip(), "torch_version": torch.__version__, "allocator": allocator(),
    }), flush=True)


def allocator():
    """The heap allocator this process runs under, as bench/allocator.sh names it (the engine's step bench says the same)."""
    if "jemalloc" in os.environ.get("LD_PRELOAD", ""):
        return "jemalloc-keep" if "dirty_decay_ms:-1" in os.environ.get("MALLOC_CONF", "") else "jemalloc"
    return "glibc-mmap1m" if os.environ.get("MALLOC_MMAP_THRESHOLD_") == "1048576" else "glibc"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    mm = sub.add_parser("matmul")
    mm.add_argument("--sizes", default="1024,2048,4096")
    mm.add_argument("--repeats", type=int, default=5)
    mm.add_argument("--threads", type=int, default=0)
    mm.add_argument("--dtype", choices=["fp32", "bf16", "both"], default="both")
    st = sub.add_parser("step")
    st.add_argument("--model", choices=sorted(CONFIGS), required=True)
    st.add_argument("--mode", choices=["full", "lora"], default="full")
    st.add_argument("--dtype", choices=sorted(DTYPES), default="fp32")
    st.add_argument("--seq", type=int, default=512)
    st.add_argument("--batch", type=int, default=1)
    st.add_argument("--steps", type=int, default=3)
    st.add_argument("--warmup", type=int, default=1)
    st.add_argument("--threads", type=int, default=0)
    st.add_argument("--lora-rank", type=int, default=16)
    st.add_argument("--peak-gflops", type=float, default=None)
    st.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads if args.threads > 0 else os.cpu_count())
    (matmul if args.command == "matmul" else step)(args)


if __name__ == "__main__":
    sys.exit(main())
