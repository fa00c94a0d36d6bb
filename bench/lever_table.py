#!/usr/bin/python3
"""Prints the lever table from the JSON lines bench/levers.sh wrote.

usage: lever_table.py LEVERS.jsonl
"""
import json
import sys


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip().startswith("{")]
    lines = [("lever", "setting", "tok/s", "step ms (min-max)", "CPU ms", "faults/step", "peak RSS-base MB", "MFU", "load")]
    lever = None
    for r in rows:
        if r["kind"] == "lever":
            lever = r
        elif r["kind"] == "step" and lever:
            lines.append((lever["lever"], lever["setting"], f"{r['tokens_per_s']:.1f}",
                          f"{r['step_ms_median']:.0f} ({r['step_ms_min']:.0f}-{r['step_ms_max']:.0f})", f"{r['cpu_ms_median']:.0f}",
                          f"{r['minor_faults_median']}", f"{r['peak_above_baseline_mb']:.0f}", f"{100 * r['mfu']:.1f}%", lever["load"]))
            lever = None
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for n, line in enumerate(lines):
        print("| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths)) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        if r["kind"] == "attention":
            print(f"\nattention, one layer forward+backward, {r['model']} {r['dtype']} seq {r['seq']} ({r['threads']} threads):")
            for v in r["variants"]:
                print(f"  {v['name']:42} {v['ms_median']:8.2f} ms (min {v['ms_min']:.2f})  max |diff| {v['max_abs_diff']:.1e}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
