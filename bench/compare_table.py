#!/usr/bin/python3
"""Prints the side-by-side table from the JSON lines that Sft.Bench and pytorch_eager.py wrote.

usage: compare_table.py RESULTS.jsonl
"""
import json
import sys


def key(r):
    return (r["model"], r["mode"], r["dtype"], r["batch"], r["seq"])


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip().startswith("{")]
    for r in rows:
        if r["kind"] == "matmul":
            print(f"matmul peak {r['impl']:14} {r['dtype']} ({r.get('path', 'native')}): {r['peak_gflops']:8.1f} GFLOP/s "
                  f"(sizes {', '.join(str(s['n']) for s in r['sizes'])}, {r['threads']} threads)")
    steps = [r for r in rows if r["kind"] == "step"]
    engine = {key(r): r for r in steps if r["impl"] == "engine"}
    torch = {key(r): r for r in steps if r["impl"] == "pytorch-eager"}
    header = ("config", "engine tok/s", "pytorch tok/s", "ratio", "engine MFU", "step ms eng/pt",
              "peak RSS MB eng/pt", "eng RSS-base MB", "memory model MB")
    lines = [header]
    for k, e in engine.items():
        p = torch.get(k)
        model = e["memory_model"]
        lines.append((
            f"{e['model']} {e['mode']} {e['dtype']} b{e['batch']}x{e['seq']}" + (f" rc{e['recompute_layers']}" if e["recompute_layers"] else ""),
            f"{e['tokens_per_s']:.1f}",
            f"{p['tokens_per_s']:.1f}" if p else "-",
            f"{e['tokens_per_s'] / p['tokens_per_s']:.2f}x" if p else "-",
            f"{100 * e['mfu']:.1f}%",
            f"{e['step_ms_median']:.0f} / {p['step_ms_median']:.0f}" if p else f"{e['step_ms_median']:.0f}",
            f"{e['peak_rss_mb']:.0f} / {p['peak_rss_mb']:.0f}" if p else f"{e['peak_rss_mb']:.0f}",
            f"{e['peak_above_baseline_mb']:.0f}",
            f"{model['total_mb']:.0f} (w {model['weights_mb']:.0f} g {model['grads_mb']:.0f} "
            f"o {model['optimizer_mb'] + model['master_weights_mb']:.0f} a {model['activations_mb']:.0f})",
        ))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for n, line in enumerate(lines):
        print("| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths)) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
