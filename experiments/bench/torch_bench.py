#!/usr/bin/python3
"""PyTorch side of the core-engine benchmark (see bench_engine.cpp, run.sh).

Usage (from the repository root; run.sh sets the environment):
    OPENBLAS_CORETYPE=Zen OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \\
        /usr/bin/python3 experiments/bench/torch_bench.py [--repetitions 10] [--min-time 0.2]

The same three nets as bench_engine.cpp, one thread, float32:
  wide    784-1024-1024-10  relu, CrossEntropyLoss (class indices)  batch 256
  medium  784-256-128-10    relu, CrossEntropyLoss                  batch 128
  tiny    2-8-8-1           tanh hidden, tanh output, MSELoss        batch 10
A step is zero_grad, forward, loss, backward, SGD(momentum=0.9).step(); the
batch cycles through a small pool of fixed random batches as in the C++ side.
Each repetition times enough steps to last >= min-time; the reported value is
the median over repetitions, after warm-up, both as thread CPU time (the
column run.sh compares: robust to other processes on a shared machine) and
as wall-clock time.

Which BLAS: Debian's torch 1.13 is built with BLAS_INFO=generic, i.e. its
matmuls (addmm/mm of nn.Linear and its backward) call sgemm_ from the system
libblas.so.3, which Debian's alternatives point at OpenBLAS
(openblas-pthread/libblas.so.3 -> libopenblas.so.0, the library sinapsis
links). So OPENBLAS_CORETYPE picks the kernel for both. torch.set_num_threads
does not reach that OpenBLAS; this script sets its threads to 1 itself.

Prints one JSON object: torch's BLAS_INFO, the kernel and thread count of the
OpenBLAS inside this process, and per net the medians in seconds per step.
"""
import argparse
import ctypes
import json
import re
import statistics
import time

import torch
import torch.nn as nn

NETS = [
    dict(name="wide", widths=[784, 1024, 1024, 10], act=nn.ReLU, out=None, loss="cce", batch=256, pool=4),
    dict(name="medium", widths=[784, 256, 128, 10], act=nn.ReLU, out=None, loss="cce", batch=128, pool=8),
    dict(name="tiny", widths=[2, 8, 8, 1], act=nn.Tanh, out=nn.Tanh, loss="mse", batch=10, pool=50),
]
LEARNING_RATE = 0.01


def openblas_info(threads=None):
    """Kernel and thread count of the OpenBLAS that torch's libblas.so.3 forwards
    to (Debian's torch is built with BLAS_INFO=generic: its sgemm_ calls go to
    the system libblas.so.3, which the alternatives system points at OpenBLAS).
    torch.set_num_threads() does not reach that OpenBLAS, so `threads` sets it."""
    try:
        lib = ctypes.CDLL("libopenblas.so.0")  # already loaded by libtorch_cpu: same handle
        if threads is not None:
            lib.openblas_set_num_threads(threads)
        lib.openblas_get_corename.restype = ctypes.c_char_p
        lib.openblas_get_config.restype = ctypes.c_char_p
        return dict(kernel=lib.openblas_get_corename().decode(),
                    library=lib.openblas_get_config().decode(),
                    threads=lib.openblas_get_num_threads())
    except OSError as e:
        return dict(kernel="unknown", library=str(e), threads=-1)


def torch_blas_info():
    """BLAS_INFO from torch's build configuration ("generic" = the system libblas.so.3)."""
    m = re.search(r"\bBLAS_INFO=(\w+)", torch.__config__.show())
    return m.group(1) if m else "unknown"


def make_net(spec):
    w = spec["widths"]
    layers = []
    for i in range(len(w) - 1):
        layers.append(nn.Linear(w[i], w[i + 1]))
        if i + 2 < len(w):
            layers.append(spec["act"]())
        elif spec["out"] is not None:
            layers.append(spec["out"]())
    return nn.Sequential(*layers)


def make_data(spec, gen):
    """Same kind of data as bench_engine.cpp's fill_data (not the same values)."""
    rows = spec["batch"] * spec["pool"]
    if spec["loss"] == "cce":
        x = torch.rand(rows, spec["widths"][0], generator=gen)
        t = torch.randint(0, spec["widths"][-1], (rows,), generator=gen)
    else:
        x = torch.rand(rows, 2, generator=gen) * 10 - 5
        t = torch.where(x[:, 0] * x[:, 1] >= 0, 1.0, -1.0)
        flip = torch.rand(rows, generator=gen) < 0.1
        t = torch.where(flip, -t, t).unsqueeze(1)
    b = spec["batch"]
    return [(x[i * b:(i + 1) * b].contiguous(), t[i * b:(i + 1) * b].contiguous())
            for i in range(spec["pool"])]


def bench(spec, repetitions, min_time):
    torch.manual_seed(12345)
    net = make_net(spec)
    loss_fn = nn.CrossEntropyLoss() if spec["loss"] == "cce" else nn.MSELoss()
    opt = torch.optim.SGD(net.parameters(), lr=LEARNING_RATE, momentum=0.9)
    batches = make_data(spec, torch.Generator().manual_seed(12345))
    state = dict(i=0, loss=0.0)

    def step():
        x, t = batches[state["i"]]
        state["i"] = (state["i"] + 1) % len(batches)
        opt.zero_grad()
        loss = loss_fn(net(x), t)
        loss.backward()
        opt.step()
        return loss

    # Warm-up, and pick steps per repetition so one lasts >= min_time.
    for _ in range(5):
        step()
    steps = 1
    while True:
        start = time.perf_counter()
        for _ in range(steps):
            step()
        if time.perf_counter() - start >= min_time / 4:
            break
        steps *= 2
    steps = max(1, int(steps * min_time / max(time.perf_counter() - start, 1e-9)))

    cpu, wall = [], []
    for _ in range(repetitions):
        c0, w0 = time.thread_time(), time.perf_counter()
        for _ in range(steps):
            loss = step()
        c1, w1 = time.thread_time(), time.perf_counter()
        cpu.append((c1 - c0) / steps)
        wall.append((w1 - w0) / steps)
    return dict(cpu_seconds_per_step=statistics.median(cpu),
                wall_seconds_per_step=statistics.median(wall),
                cpu_seconds_all=cpu, steps_per_repetition=steps, batch=spec["batch"],
                last_loss=float(loss.detach()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=10)
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds per repetition")
    parser.add_argument("--nets", default="wide,medium,tiny")
    args = parser.parse_args()
    torch.set_num_threads(1)
    result = dict(torch_version=torch.__version__, torch_threads=torch.get_num_threads(),
                  torch_build_blas=torch_blas_info(), openblas=openblas_info(threads=1), nets={})
    for spec in NETS:
        if spec["name"] in args.nets.split(","):
            result["nets"][spec["name"]] = bench(spec, args.repetitions, args.min_time)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
