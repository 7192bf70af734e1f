#!/usr/bin/env bash
# How sinapsis would scale beyond anything this machine can run (issue 13,
# "Projection"): `sinapsis plan` for the medium (784-256-128-10, 128 samples
# per rank) and wide (784-1024-1024-10, 256 per rank) nets on 1, 2, 4, ...,
# 1024 ranks, over four links with a published MPI latency each, 1 rank per
# node and --ranks-per-node K, each with fp32 / bf16 gradients and the fused
# / overlapped exchange. Pure arithmetic: the compute rates are given, never
# measured, so the script is quick and quiet on a loaded machine.
#
# Usage: experiments/plan/projection.sh [--gflops G] [--memory-gbs M] [--ranks-per-node K]
#                                       [--out-dir DIR] [--build-dir DIR]
#   --gflops G        GEMM rate of one rank (default 63: BENCHMARKS.md, "Past one
#                     box": sgemm 1024^3 on 1 thread of this machine kind, an
#                     AMD EPYC Zen 3 VM with OpenBLAS's Zen kernel)
#   --memory-gbs M    streaming rate of one rank (default 20: BENCHMARKS.md,
#                     "Predicted vs measured": the memory-bound passes of the
#                     wide step ran at roughly half of the ~40 GB/s assumed)
#   --ranks-per-node K  the multi-rank case (default 8: a common 2-socket node
#                     runs 8 ranks of a few cores each, with a core to spare)
#   --out-dir DIR     default runs/projection (in the checkout)
#   --build-dir DIR   default build/release
#
# Writes DIR/csv/NET_LINK_rpnR_PRECISION_OVERLAP.csv (plan --format csv),
# DIR/table.md (efficiency at 2 ... 1024 ranks, batch per rank for 90 % at
# 128, and Horovod's published point), DIR/analysis.md (where each net stops
# scaling, from the CSVs) and DIR/efficiency.png (+ efficiency_rpnK.png); it
# prints the two markdown files.
#
# The links (alpha: one-way MPI latency of a small message; beta: the line
# rate; each rank of a node shares the node's link, as plan models it):
#   10 GbE, TCP    10gbit   20 us
#   25 GbE, TCP    25gbit   20 us
#   EDR InfiniBand 100gbit   1 us
#   HDR InfiniBand 200gbit   1 us
# TCP's latency is the kernel stack's, not the wire's, so 10 and 25 GbE get
# the same figure. Sources:
#   https://malgukke.de/expertise/nodecommu.html  kernel TCP/IP: "high latency
#     (20-50us)"; RDMA: "< 1 microsecond"
#   https://gist.github.com/jfgrimm/3af692a5475bdd4ed836b5a18197a209  osu_latency,
#     0 bytes: MPICH over TCP (1 GbE, ~116 MB/s) 25-26 us; Open MPI over UCX on
#     InfiniBand (~10.3 GB/s, i.e. EDR) 0.90 us
#   https://github.com/open-mpi/ompi/issues/5808  an Open MPI maintainer:
#     "Infiniband latency is 1us, TCP is much higher"
#   https://docs.nvidia.com/networking/display/ConnectX6EN/Introduction  ConnectX-6
#     (HDR, 200 Gb/s): "sub-600ns latency" (adapter; MPI adds software)
#   BENCHMARKS.md, "Past one box": sinapsis's own calibration on this machine's
#     emulated hosts (TCP over veth shaped to 10 Gb/s) fits alpha = 27 us.
# Horovod (Sergeev & Del Balso 2018, https://arxiv.org/abs/1802.05799): 88 %
# scaling efficiency at 128 Pascal GPUs on 25 GbE TCP (Inception V3, ResNet-101).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$here/../.." && pwd)

gflops=63 memory_gbs=20 per_node=8 out_dir=$ROOT/runs/projection build_dir=build/release
while (($#)); do
  case "$1" in
    --gflops) gflops=$2; shift 2 ;;
    --memory-gbs) memory_gbs=$2; shift 2 ;;
    --ranks-per-node) per_node=$2; shift 2 ;;
    --out-dir) out_dir=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "projection.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$build_dir" = /* ]] || build_dir=$ROOT/$build_dir
sinapsis=$build_dir/launch/sinapsis
[[ -x "$sinapsis" ]] || { echo "projection.sh: no $sinapsis (launch/build.sh release first)" >&2; exit 1; }
if ((per_node < 2)); then
  echo "projection.sh: --ranks-per-node $per_node: the multi-rank case needs >= 2 (1 is always projected)" >&2
  exit 2
fi
mkdir -p "$out_dir/csv"

# shellcheck disable=SC2054  # 256,128 is one value
declare -A HIDDEN=([medium]=256,128 [wide]=1024,1024) BATCH=([medium]=128 [wide]=256)
declare -A LATENCY=([10gbit]=20us [25gbit]=20us [100gbit]=1us [200gbit]=1us)
NETS=(medium wide) LINKS=(10gbit 25gbit 100gbit 200gbit)

echo "compute: --gflops $gflops --memory-gbs $memory_gbs (given, not measured); multi-rank case: $per_node ranks per node"
for net in "${NETS[@]}"; do
  for link in "${LINKS[@]}"; do
    for rpn in 1 "$per_node"; do
      for precision in fp32 bf16; do
        for overlap in off on; do
          # --threads 1: a rank is one core at --gflops; plan grants the
          # overlap thread a core of its own only if this host's cores cover
          # ranks-per-node x (threads + 1), so pinning threads keeps the
          # 1-per-node case independent of how many cores this host has.
          "$sinapsis" plan --inputs 784 --outputs 10 --hidden "${HIDDEN[$net]}" --batch-per-rank "${BATCH[$net]}" \
            --ranks 1,2,4,...,1024 --ranks-per-node "$rpn" --link "$link" --latency "${LATENCY[$link]}" \
            --grad-precision "$precision" --overlap "$overlap" --gflops "$gflops" --memory-gbs "$memory_gbs" \
            --threads 1 --format csv --out "$out_dir/csv/${net}_${link}_rpn${rpn}_${precision}_${overlap}.csv" >/dev/null
        done
      done
    done
  done
done

python3 - "$out_dir" "$gflops" "$memory_gbs" "$per_node" <<'PY'
import csv, math, os, sys

out, gflops, memory_gbs, per_node = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
NETS = {"medium": ("784-256-128-10", 128), "wide": ("784-1024-1024-10", 256)}
LINKS = {"10gbit": ("10 GbE TCP", 10e9, 20e-6), "25gbit": ("25 GbE TCP", 25e9, 20e-6),
         "100gbit": ("100 Gb/s EDR IB", 100e9, 1e-6), "200gbit": ("200 Gb/s HDR IB", 200e9, 1e-6)}
VARIANTS = [("fp32", "off", "fp32 fused"), ("fp32", "on", "fp32 overlapped"),
            ("bf16", "off", "bf16 fused"), ("bf16", "on", "bf16 overlapped")]
SHOWN = [2, 8, 32, 128, 512, 1024]

def rows(net, link, rpn, precision, overlap):
    with open(f"{out}/csv/{net}_{link}_rpn{rpn}_{precision}_{overlap}.csv") as f:
        return {int(r["ranks"]): r for r in csv.DictReader(f)}

def first_below(table, bound):
    below = [p for p in sorted(table) if float(table[p]["efficiency"]) < bound]
    return below[0] if below else None

def ms(seconds):
    return f"{seconds * 1e3:.2f}"

# ---- Odd shapes: efficiency above 1, or rising with the rank count ----
odd = []
for net in NETS:
    for link in LINKS:
        for rpn in (1, per_node):
            for precision, overlap, _ in VARIANTS:
                t = rows(net, link, rpn, precision, overlap)
                ranks = sorted(t)
                for p in ranks:
                    if float(t[p]["efficiency"]) > 1 + 1e-9:
                        odd.append(f"{net} {link} {rpn}/node {precision} overlap {overlap}: efficiency "
                                   f"{float(t[p]['efficiency']):.3f} > 1 at {p} ranks")
                for a, b in zip(ranks, ranks[1:]):
                    ea, eb = float(t[a]["efficiency"]), float(t[b]["efficiency"])
                    if eb > ea + 1e-4:
                        odd.append(f"{net} {link} {rpn}/node {precision} overlap {overlap}: efficiency rises "
                                   f"{ea:.3f} -> {eb:.3f} from {a} to {b} ranks (exchange {t[a]['exchange']} -> "
                                   f"{t[b]['exchange']}, exposed comm {ms(float(t[a]['comm_seconds']))} -> "
                                   f"{ms(float(t[b]['comm_seconds']))} ms)")

# ---- The table ----
def table(rpn):
    head = ("| net | link | gradients, exchange | " + " | ".join(f"{p}" for p in SHOWN) +
            " | batch/rank for 90 % at 128 | exchange at 128 (nodes) |")
    lines = [head, "|" + "---|" * (len(SHOWN) + 5)]
    for net, (shape, batch) in NETS.items():
        for link, (label, _, alpha) in LINKS.items():
            for precision, overlap, name in VARIANTS:
                t = rows(net, link, rpn, precision, overlap)
                cells = [f"{float(t[p]['efficiency']):.2f}" for p in SHOWN]
                at = t[128]
                lines.append(f"| {net} ({batch}/rank) | {label}, {alpha * 1e6:g} us | {name} | " + " | ".join(cells) +
                             f" | {at['min_batch_per_rank_90']} | {at['exchange']} ({at['nodes']}) |")
    return "\n".join(lines)

horovod = ("| Horovod, Inception V3 / ResNet-101 (Sergeev & Del Balso 2018) | 25 GbE TCP | fp32, NCCL ring, "
           "Tensor Fusion | | | | 0.88 | | | | |")

md = [f"# Projected scaling efficiency (`sinapsis plan`)", "",
      f"Compute per rank: GEMM {gflops:g} GFLOP/s, memory {memory_gbs:g} GB/s (given: this machine kind's 1-core "
      "sgemm and streaming figures from BENCHMARKS.md, one BLAS thread per rank). Efficiency = speed-up over one "
      "rank at the same batch per rank, divided by the ranks. Link latencies: 10/25 GbE over TCP 20 us, EDR/HDR "
      "InfiniBand 1 us (sources in experiments/plan/projection.sh). Shared memory within a node: plan's built-in "
      "link (0.3 us, 0.25 ns/byte).", "",
      "## 1 rank per node", "", table(1), horovod, "",
      f"## {per_node} ranks per node (the exchanges within a node over shared memory, those between nodes "
      "through its shared link)", "", table(per_node), "",
      f"With {per_node} ranks per node, plan's overlapped rows hide nothing: it gives the exchange thread a core "
      f"only when this host's cores cover ranks-per-node x (BLAS threads + 1) = {per_node} x 2, and the host "
      "running the projection has fewer; those rows are the fused exchange split into buckets, run after "
      "backward. The algorithm is Open MPI 4.1's choice for one flat MPI_Allreduce over all the ranks and the "
      "whole gradient (coll/tuned runs no hierarchy by default); plan costs it on the nodes: the exchanges "
      "between ranks of a node over shared memory, the others through the node's link, shared by the ranks "
      "that cross it at once.", "",
      "Horovod's 88 % at 128 GPUs on 25 GbE is not the same experiment: a Pascal GPU computes a ResNet-101 step "
      "far faster than one CPU core computes these nets, so what decides efficiency is the ratio of compute "
      "seconds to exchange seconds per step, not the link. Horovod's ResNet-101 exchanges 44.5 M parameters "
      "(178 MB fp32) per step: the ring's bandwidth term alone, 2 x 127/128 x 178 MB at 25 Gb/s, is 113 ms, so "
      "88 % needs a step whose compute is ~7x its exposed exchange. The rows above report that ratio for "
      "sinapsis in analysis.md."]
if odd:
    md += ["", "Where efficiency rises with the ranks:", ""] + [f"- {o}" for o in odd]
with open(f"{out}/table.md", "w") as f:
    f.write("\n".join(md) + "\n")

# ---- The analysis: numbers read from the CSVs ----
def alphas(exchange, p):  # messages in sequence of each allreduce (scaling_model.hpp)
    lg = math.log2(p)
    return {"rabenseifner": 2 * lg, "recursive doubling": lg, "ring": 2 * (p - 1),
            "reduce+bcast": 2 * math.ceil(lg), "linear": 2 * (p - 1)}.get(exchange)

def never(p):
    return f"{p} ranks" if p else "no count up to 1024"

def eff(t, p):
    return f"{float(t[p]['efficiency']):.2f}"

para = ["# Where sinapsis stops scaling (from the plan CSVs)", "",
        f"Compute per rank {gflops:g} GFLOP/s and {memory_gbs:g} GB/s, 1 rank per node unless said; alpha = 20 us "
        "on 10/25 GbE TCP, 1 us on EDR/HDR InfiniBand.", ""]
details = []
for net, (shape, batch) in NETS.items():
    fused = {link: rows(net, link, 1, "fp32", "off") for link in LINKS}
    compressed = {link: rows(net, link, 1, "bf16", "on") for link in LINKS}
    multi = {link: rows(net, link, per_node, "fp32", "off") for link in LINKS}
    multi16 = {link: rows(net, link, per_node, "bf16", "off") for link in LINKS}
    compute = float(fused["10gbit"][1]["compute_seconds"])
    n = float(fused["10gbit"][2]["bytes_per_step"])
    algorithm = fused["10gbit"][1024]["exchange"]
    k = alphas(algorithm, 1024)
    per_link = {link: (2 * 1023 / 1024 * n * 8 / rate, k * alpha) for link, (_, rate, alpha) in LINKS.items()}
    text = (f"**{net}** ({shape}, {batch} per rank): {ms(compute)} ms of compute per step, "
            f"{n / 1e6:.2f} MB of fp32 gradient. Fused fp32: at 1024 ranks Open MPI runs {algorithm} "
            f"(column `exchange`), whose latency term is only {k:g} alpha "
            f"({ms(per_link['10gbit'][1])} ms on TCP, {ms(per_link['100gbit'][1])} ms on InfiniBand) while its "
            "bandwidth term 2(p-1)/p n beta stops growing at 2 n beta (" +
            ", ".join(f"{ms(per_link[l][0])} ms at {l}" for l in LINKS) +
            "). So efficiency does not fall without end: it levels off at compute / (compute + 2 n beta + "
            "n gamma + latency), at 1024 ranks " + ", ".join(f"{eff(fused[l], 1024)} ({l})" for l in LINKS) +
            ". It is below 0.9 from " + ", ".join(f"{never(first_below(fused[l], 0.9))} ({l})" for l in LINKS) +
            "; below 0.5 from " + ", ".join(f"{never(first_below(fused[l], 0.5))} ({l})" for l in LINKS) +
            ". What restores 0.9 at 128 ranks is compute per byte: " +
            ", ".join(f"{fused[l][128]['min_batch_per_rank_90']} ({l})" for l in LINKS) +
            f" samples per rank instead of {batch}. bf16 with overlap halves the bytes but its exchange "
            "(alltoallv + allgatherv) sends at least p-1 messages in sequence, a latency term linear in p: "
            f">= {ms(1023 * 20e-6)} ms per bucket at 1024 ranks on TCP against {ms(compute)} ms of compute; "
            "below 0.5 from " +
            ", ".join(f"{never(first_below(compressed[l], 0.5))} ({l})" for l in LINKS) +
            f" (at 128 ranks {eff(compressed['25gbit'], 128)} vs fp32 fused {eff(fused['25gbit'], 128)} on "
            f"25 GbE). With {per_node} ranks per node the fp32 allreduce (as plan models it: shared memory, then "
            f"each rank's 1/{per_node} across the nodes) puts the same bytes on a node's link as 1 rank per node "
            "and adds the shared-memory stage: at 128 ranks " +
            ", ".join(f"{eff(multi[l], 128)} ({l})" for l in LINKS) +
            ", needing " + ", ".join(f"{multi[l][128]['min_batch_per_rank_90']}" for l in LINKS) +
            " per rank for 0.9. bf16 is worse than fp32 there (at 128 ranks " +
            ", ".join(f"{eff(multi16[l], 128)}" for l in LINKS) +
            f" fused) because sum_compressed has no per-node stage: a node's link carries about 2 x {per_node} x "
            f"its 16-bit gradient ({per_node} x the fp32 gradient) where the fp32 allreduce carries 2 x, "
            f"{per_node // 2} x fewer bytes.")
    cliff = [(l, p, multi[l][p]["exchange"], eff(multi[l], p)) for l in LINKS for p in (512, 1024)
             if multi[l][p]["exchange"] != multi[l][256]["exchange"]]
    if cliff:
        text += (f" Beyond 256 ranks the {per_node}-per-node fp32 rows change algorithm because plan picks it for "
                 f"the node count and 1/{per_node} of the gradient: " +
                 ", ".join(f"{c[2]} at {c[1]} ranks ({c[0]}, {c[3]})" for c in cliff) +
                 "; see table.md.")
    para += [text, ""]
    for link, (label, rate, alpha) in LINKS.items():
        parts = []
        for precision, overlap, name in [("fp32", "off", "fp32 fused"), ("bf16", "on", "bf16 overlapped")]:
            t = rows(net, link, 1, precision, overlap)
            at128, at1024 = t[128], t[1024]
            part = (f"{name}: below 0.9 from {never(first_below(t, 0.9))}, below 0.5 from "
                    f"{never(first_below(t, 0.5))}; at 128 ranks exposed comm {ms(float(at128['comm_seconds']))} ms "
                    f"vs compute {ms(float(at128['compute_seconds']))} ms (efficiency {eff(t, 128)}), 0.9 needs "
                    f"{at128['min_batch_per_rank_90']}/rank; at 1024 ranks exchange {ms(float(at1024['comm_total_seconds']))} ms")
            parts.append(part)
        details.append(f"- {net}, {label}: " + "; ".join(parts) + ".")
horovod_ratio = 1 / 0.88 - 1
ratios = {net: float(rows(net, "25gbit", 1, "fp32", "off")[128]["compute_seconds"]) /
          float(rows(net, "25gbit", 1, "fp32", "off")[128]["comm_seconds"]) for net in NETS}
para += [f"**Against Horovod** (88 % at 128 GPUs on 25 GbE): 88 % means the exposed exchange is "
         f"{horovod_ratio:.3f} of compute, i.e. compute ~{1 / horovod_ratio:.1f}x the exposed exchange. At 128 "
         "ranks on 25 GbE (fused fp32) sinapsis has compute / exposed comm = " +
         ", ".join(f"{ratios[net]:.1f}x ({net}, efficiency {eff(rows(net, '25gbit', 1, 'fp32', 'off'), 128)})"
                   for net in NETS) +
         ". A GPU computes each step far faster than a CPU core, so matching Horovod's ratio takes it many times "
         "more bytes of gradient per second of compute; on one CPU core per rank the wide net lands where Horovod "
         "does, the medium net does not.", "", "Per link (1 rank per node):", ""] + details + [""]
with open(f"{out}/analysis.md", "w") as f:
    f.write("\n".join(para))

# ---- Plot data: efficiency over ranks, one file per curve ----
os.makedirs(f"{out}/plot", exist_ok=True)
for net in NETS:
    for link in LINKS:
        for rpn in (1, per_node):
            for precision, overlap, _ in VARIANTS:
                t = rows(net, link, rpn, precision, overlap)
                with open(f"{out}/plot/{net}_{link}_rpn{rpn}_{precision}_{overlap}.dat", "w") as f:
                    for p in sorted(t):
                        f.write(f"{p} {t[p]['efficiency']}\n")
PY

# Efficiency over ranks, a panel per net, a colour per link; solid fp32
# fused, dashed bf16 overlapped (with K per node, bf16 fused: plan's overlap
# hides nothing there, see table.md).
plot() {  # plot RPN SECOND_PRECISION SECOND_OVERLAP SECOND_LABEL IMAGE
  local rpn=$1 precision=$2 overlap=$3 label=$4 image=$5
  {
    echo "set terminal pngcairo size 1200,600 noenhanced"
    echo "set output '$image'"
    echo "set multiplot layout 1,2"
    echo "set logscale x 2; set xrange [1:1024]; set yrange [0:1.05]; set grid"
    echo "set xlabel 'ranks'; set ylabel 'predicted efficiency'; set key below maxrows 4"
    declare -A colour=([10gbit]='#d62728' [25gbit]='#ff7f0e' [100gbit]='#2ca02c' [200gbit]='#1f77b4')
    for net in "${NETS[@]}"; do
      echo "set title '$net (${HIDDEN[$net]//,/-} hidden, ${BATCH[$net]}/rank), $rpn rank(s) per node'"
      local terms=()
      for link in "${LINKS[@]}"; do
        terms+=("'$out_dir/plot/${net}_${link}_rpn${rpn}_fp32_off.dat' with linespoints lw 2 dt 1 lc rgb '${colour[$link]}' title '$link ${LATENCY[$link]} fp32 fused'")
        terms+=("'$out_dir/plot/${net}_${link}_rpn${rpn}_${precision}_${overlap}.dat' with linespoints lw 2 dt 2 lc rgb '${colour[$link]}' title '$link ${LATENCY[$link]} $label'")
      done
      (IFS=,; echo "plot ${terms[*]}")
    done
    echo "unset multiplot"
  } >"$out_dir/plot/${image##*/}.gp"
  gnuplot "$out_dir/plot/${image##*/}.gp"
}
plot 1 bf16 on "bf16 overlapped" "$out_dir/efficiency.png"
plot "$per_node" bf16 off "bf16 fused" "$out_dir/efficiency_rpn$per_node.png"

cat "$out_dir/table.md"
echo
cat "$out_dir/analysis.md"
echo
echo "plots: $out_dir/efficiency.png, $out_dir/efficiency_rpn$per_node.png; CSVs: $out_dir/csv/"
