"""The tables of experiments/cluster/bench.sh, from its output directory.

usage: summarize.py OUT RUNS EPOCHS CPU KERNEL
"""
import csv
import json
import os
import re
import statistics
import sys
from collections import defaultdict

out, runs, epochs, cpu, kernel = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
med = statistics.median
TICK = os.sysconf("SC_CLK_TCK")
ROWS = 8192


def rng(xs, f="{:.0f}"):
    return f"{f.format(min(xs))}..{f.format(max(xs))}"


def fmt_time(s):
    return f"{s * 1e3:.2f} ms" if s >= 1e-3 else f"{s * 1e6:.1f} us"


# (a) the allreduce sweeps.
sweeps = sorted(f[:-4] for f in os.listdir(out) if f.startswith("sweep_") and f.endswith(".txt"))
if sweeps:
    print(f"(a) bare MPI_Allreduce, 2 ranks; median over {runs} rounds ({cpu}, OpenBLAS {kernel})\n")
    sizes = ["1024", "65536", "1048576", "8388608"]
    print(f"{'set-up':<28}{'alpha':>10}{'beta ns/B':>11}{'1/beta GB/s':>12}"
          + "".join(f"{s + ' B':>12}" for s in sizes))
    for name in sweeps:
        text = open(f"{out}/{name}.txt").read()
        a = re.search(r"^alpha (\S+ \S+)", text, re.M)
        b = re.search(r"^beta +(\S+) ns/byte", text, re.M)
        if not (a and b):
            print(f"{name[6:]:<28}(no result: see {out}/{name}.txt)")
            continue
        t = {m.group(1): m.group(2) for m in re.finditer(r"^ +(\d+) +(\S+ \S+) ", text, re.M)}
        beta = float(b.group(1))
        print(f"{name[6:]:<28}{a.group(1):>10}{beta:>11.3f}{1 / beta:>12.3f}"
              + "".join(f"{t.get(s, '-'):>12}" for s in sizes))
    print()


def cpu_counters(path):
    """{cpu index: (softirq, system, steal ticks)}, {NET_RX|NET_TX: [count per cpu]}"""
    ticks, irqs = {}, {}
    for line in open(path):
        f = line.split()
        if f[0].startswith("cpu"):
            ticks[int(f[0][3:])] = (int(f[1]), int(f[2]), int(f[3]))
        else:
            irqs[f[0]] = [int(x) for x in f[1:]]
    return ticks, irqs


def run_values(d):
    with open(f"{d}/metrics.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if int(r["epoch"]) >= 2]
    v = {k: med(float(r[k]) for r in rows) for k in
         ("samples_per_second", "compute_seconds", "comm_seconds", "io_seconds", "epoch_seconds")}
    summary = json.load(open(f"{d}/summary.json"))
    v["time_seconds"] = summary["time_seconds"]
    v["wall"] = summary["wall_seconds"]
    # Share of the run during which another session ran (half-second samples).
    busy = f"{d}.busy"
    v["busy"] = int(open(busy).read()) * 0.5 / v["wall"] if os.path.exists(busy) else 0.0
    t0, i0 = cpu_counters(f"{d}.cpu0")
    t1, i1 = cpu_counters(f"{d}.cpu1")
    v["softirq"] = {c: (t1[c][0] - t0[c][0]) / TICK for c in t0}
    v["system"] = {c: (t1[c][1] - t0[c][1]) / TICK for c in t0}
    v["steal"] = {c: (t1[c][2] - t0[c][2]) / TICK for c in t0}
    v["net_rx"] = [b - a for a, b in zip(i0["NET_RX"], i1["NET_RX"])]
    v["net_tx"] = [b - a for a, b in zip(i0["NET_TX"], i1["NET_TX"])]
    # Where each rank's threads may run: "hostA:0 hostB:1" (host = namespace's last letter).
    cores = defaultdict(set)
    for line in open(f"{d}.placement"):
        f = line.split()
        if len(f) == 4:
            host = "host" + f[0][-1] if f[0] != "host" else "one host"
            cores[(host, f[1])].add(f[3])
    v["placement"] = " ".join(sorted(f"{h}:{'|'.join(sorted(c))}" for (h, _), c in cores.items()))
    return v


CONFIGS = ["1rank", "2ranks_1host", "2ranks_1host_yield"]
for p in ("unshaped", "10gbit", "1gbit"):
    CONFIGS += [f"2hosts_{p}", f"2hosts_{p}_yield"]
CONFIGS.append("2hosts_unshaped_ompibind")
LABEL = {"1rank": "1 rank", "2ranks_1host": "2 ranks, 1 host", "2ranks_1host_yield": "2 ranks, 1 host, yield",
         "2hosts_unshaped_ompibind": "2 hosts unshaped, OMPI bind"}
for p in ("unshaped", "10gbit", "1gbit"):
    LABEL[f"2hosts_{p}"] = f"2 hosts {p}"
    LABEL[f"2hosts_{p}_yield"] = f"2 hosts {p}, yield"

res = defaultdict(list)  # (net, batch, config) -> [run values]
for name in sorted(os.listdir(out)):
    m = re.fullmatch(r"r(\d+)_(medium|wide)_(\d+)_(\w+)", name)
    if m and os.path.isfile(f"{out}/{name}/metrics.csv"):
        res[(m.group(2), int(m.group(3)), m.group(4))].append(run_values(f"{out}/{name}"))

if res:
    print(f"(b, c) sinapsis train, 8,192 samples, 1 BLAS thread per rank, OpenBLAS {kernel}; per run the median of "
          f"epochs 2..{epochs} (rank 0), then median over runs [min..max]; seconds per epoch; others: share of the run\n"
          "during which another session's process was running (median over runs)\n")
    for net, arch in (("medium", "784-256-128-10"), ("wide", "784-1024-1024-10")):
        for batch in (128, 256):
            rows = [(c, res[(net, batch, c)]) for c in CONFIGS if res.get((net, batch, c))]
            if not rows:
                continue
            print(f"{arch}, {batch} samples per rank")
            print(f"{'configuration':<30}{'samples/s':>10}{'min..max':>16}{'x 1 rank':>9}{'compute':>9}{'comm':>8}"
                  f"{'io':>8}{'step ms':>9}{'compute ms':>11}{'runs':>5}{'others':>8}")
            base = med(v["samples_per_second"] for v in res[(net, batch, "1rank")]) if res.get(
                (net, batch, "1rank")) else float("nan")
            for c, vs in rows:
                sps = [v["samples_per_second"] for v in vs]
                ranks = 1 if c == "1rank" else 2
                steps = -(-ROWS // (batch * ranks))
                step_ms = med(v["epoch_seconds"] for v in vs) / steps * 1e3
                comp_ms = med(v["compute_seconds"] for v in vs) / steps * 1e3
                print(f"{LABEL[c]:<30}{med(sps):>10.0f}{rng(sps):>16}{med(sps) / base:>9.2f}"
                      f"{med(v['compute_seconds'] for v in vs):>9.3f}{med(v['comm_seconds'] for v in vs):>8.3f}"
                      f"{med(v['io_seconds'] for v in vs):>8.3f}{step_ms:>9.2f}{comp_ms:>11.2f}{len(vs):>5}"
                      f"{med(v['busy'] for v in vs) * 100:>7.0f}%")
            print()

    print("(d) CPU time per core during a whole run (softirq / system / steal seconds, NET_RX softirqs), median over runs;"
          " where the ranks' threads may run")
    print(f"{'net batch configuration':<44}{'wall s':>7}{'softirq 0/1':>13}{'system 0/1':>13}{'NET_RX 0/1':>16}"
          "  placement (host:cores)")
    for net in ("medium", "wide"):
        for batch in (128, 256):
            for c in CONFIGS:
                vs = res.get((net, batch, c))
                if not vs:
                    continue
                cores = sorted(vs[0]["softirq"])
                si = "/".join(f"{med(v['softirq'][k] for v in vs):.2f}" for k in cores)
                sy = "/".join(f"{med(v['system'][k] for v in vs):.2f}" for k in cores)
                st = "/".join(f"{med(v['steal'][k] for v in vs):.2f}" for k in cores)
                rx = "/".join(f"{med(v['net_rx'][k] for v in vs):.0f}" for k in cores)
                places = sorted({v["placement"] for v in vs})
                print(f"{net + ' ' + str(batch) + ' ' + LABEL[c]:<44}{med(v['wall'] for v in vs):>7.2f}{si:>13}"
                      f"{sy:>13}{st:>13}{rx:>16}  {'; '.join(places)}")
