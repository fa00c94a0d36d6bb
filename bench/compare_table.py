#!/usr/bin/python3
"""Prints the side-by-side table from the JSON lines that Sft.Bench and pytorch_eager.py wrote.
With several files (repeated runs), each cell is the median over runs and the ratio's spread is shown; "ratio, best
step" compares the fastest single step of each side over all runs (the least disturbed by other load), and MFU is
the median achieved GFLOP/s over the best matmul peak any run measured for that dtype.

usage: compare_table.py RESULTS.jsonl [MORE.jsonl ...]
"""
import json
import statistics
import sys


def key(r):
    return (r["model"], r["mode"], r["dtype"], r["batch"], r["seq"], r["recompute_layers"], r.get("allocator", "glibc"))


def label(k):
    return f"{k[0]} {k[1]} {k[2]} b{k[3]}x{k[4]}" + (f" rc{k[5]}" if k[5] else "") + ("" if k[6] == "glibc" else f" [{k[6]}]")


def spread(values, fmt):
    m = statistics.median(values)
    return fmt.format(m) if len(values) == 1 else f"{fmt.format(m)} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def main(paths):
    runs = [[json.loads(line) for line in open(p) if line.strip().startswith("{")] for p in paths]
    for rows in runs:
        for r in rows:
            if r["kind"] == "matmul":
                print(f"matmul peak {r['impl']:14} {r['dtype']} ({r.get('path', 'native')}): {r['peak_gflops']:8.1f} GFLOP/s "
                      f"(sizes {', '.join(str(s['n']) for s in r['sizes'])}, {r['threads']} threads)")
    # MFU against the best peak any run measured per dtype: a peak measured while the machine was busy would
    # inflate every MFU of that run.
    peaks = {}
    for rows in runs:
        for r in rows:
            if r["kind"] == "matmul":
                peaks[r["dtype"]] = max(peaks.get(r["dtype"], 0), r["peak_gflops"])
    engine, torch, ratios, order = {}, {}, {}, []
    for rows in runs:
        e = {key(r): r for r in rows if r["kind"] == "step" and r["impl"] == "engine"}
        p = {key(r): r for r in rows if r["kind"] == "step" and r["impl"] == "pytorch-eager"}
        for k, r in e.items():
            if k not in order:
                order.append(k)
            engine.setdefault(k, []).append(r)
            if k in p:
                torch.setdefault(k, []).append(p[k])
                ratios.setdefault(k, []).append(r["tokens_per_s"] / p[k]["tokens_per_s"])
    header = ("config", "engine tok/s", "pytorch tok/s", "ratio" + (f" (median of {len(runs)}, range)" if len(runs) > 1 else ""),
              "ratio, best step", "engine MFU (best peak)", "step ms eng / pt", "peak RSS MB eng / pt", "eng RSS-base MB", "memory model MB")
    lines = [header]
    for k in order:
        e, p = engine[k], torch.get(k, [])
        model = e[0]["memory_model"]
        med = lambda rs, f: statistics.median(r[f] for r in rs)
        lines.append((
            label(k),
            f"{med(e, 'tokens_per_s'):.1f}",
            f"{med(p, 'tokens_per_s'):.1f}" if p else "-",
            spread(ratios[k], "{:.2f}x") if k in ratios else "-",
            f"{min(r['step_ms_min'] for r in p) / min(r['step_ms_min'] for r in e):.2f}x" if p else "-",
            f"{100 * med(e, 'achieved_gflops') / peaks.get(k[2], med(e, 'peak_gflops')):.1f}%",
            f"{med(e, 'step_ms_median'):.0f} / {med(p, 'step_ms_median'):.0f}" if p else f"{med(e, 'step_ms_median'):.0f}",
            f"{med(e, 'peak_rss_mb'):.0f} / {med(p, 'peak_rss_mb'):.0f}" if p else f"{med(e, 'peak_rss_mb'):.0f}",
            f"{med(e, 'peak_above_baseline_mb'):.0f}",
            f"{model['total_mb']:.0f} (w {model['weights_mb']:.0f} g {model['grads_mb']:.0f} "
            f"o {model['optimizer_mb'] + model['master_weights_mb']:.0f} a {model['activations_mb']:.0f})",
        ))
    table(lines)
    goals = [("config", "memory goal", "measured MB (RSS - base)", "model MB", "ratio", "limit", "result")]
    for k in order:
        rows = [r for r in engine[k] if "memory_goal" in r]
        if not rows:
            continue
        g = rows[0]["memory_goal"]
        ratio = statistics.median(r["memory_goal"]["ratio"] for r in rows)
        limit = g["limit"]
        met = ratio <= limit if k[1] == "lora" else abs(ratio - 1) <= limit - 1
        goals.append((label(k),
                      "<= base weights x1.15" if k[1] == "lora" else "within 10% of w+g+adamw+act",
                      f"{statistics.median(r['memory_goal']['measured_mb'] for r in rows):.0f}", f"{g['model_mb']:.0f}",
                      f"{ratio:.2f}", f"{limit:.2f}", "met" if met else "missed"))
    if len(goals) > 1:
        print()
        table(goals)


def table(lines):
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for n, line in enumerate(lines):
        print("| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths)) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
