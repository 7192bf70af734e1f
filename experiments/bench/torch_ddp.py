#!/usr/bin/python3
"""PyTorch DistributedDataParallel side of the data-parallel benchmark (scaling.sh).

Usage (scaling.sh sets the environment; see BENCHMARKS.md, "Data-parallel training"):
    OPENBLAS_CORETYPE=Zen OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \\
        /usr/bin/python3 experiments/bench/torch_ddp.py [--world 2] [--batch 128] \\
        [--data F.h5] [--repetitions 7] [--steps 100] [--warmup 30]

Starts `--world` worker processes of this script (plain subprocesses, so every
worker loads torch, and with it OpenBLAS, under the environment above), joined
by torch.distributed with the gloo backend, init_method env:// on 127.0.0.1
and a free port. Each worker runs one torch thread and one OpenBLAS thread
(torch.set_num_threads does not reach Debian's OpenBLAS, so the thread count is
also set through openblas_set_num_threads, as in torch_bench.py).

The model is 784-256-128-10 relu (nn.Sequential of nn.Linear + nn.ReLU) in
DistributedDataParallel (CPU, default 25 MiB buckets: the whole 0.9 MiB
gradient is one bucket), CrossEntropyLoss on class indices, SGD lr 0.05
momentum 0.9; `--batch` samples PER RANK per step, as with sinapsis's
--batch 256 on 2 ranks. Data: with --data, the /features and /labels of an
HDF5 file written by `sinapsis data import` (rank r takes the r-th contiguous
1/world of the rows, standardized per column); otherwise random data. Each
step gathers its rows from a per-epoch permutation (x[idx]), like sinapsis's
batch assembly.

Timing: after --warmup steps, --repetitions repetitions of --steps steps each,
every repetition between two dist.barrier() calls, wall-clock on rank 0.
samples/s = world * batch * steps / seconds: the samples of all ranks.
Also measured (--no-sync-steps > 0): the same steps inside DDP's no_sync(),
i.e. with no gradient allreduce, to split compute from communication.

Prints one JSON object (from rank 0): versions, OpenBLAS kernel and threads
seen inside the worker, per repetition samples/s, their median, and the
no-sync median.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(args):
    env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(free_port()),
               WORLD_SIZE=str(args.world))
    procs = []
    for rank in range(args.world):
        cmd = [sys.executable, os.path.abspath(__file__), "--worker"] + sys.argv[1:]
        procs.append(subprocess.Popen(cmd, env=dict(env, RANK=str(rank)),
                                      stdout=subprocess.PIPE if rank == 0 else subprocess.DEVNULL))
    out, _ = procs[0].communicate()
    codes = [procs[0].returncode] + [p.wait() for p in procs[1:]]
    if any(codes):
        print(f"torch_ddp.py: a worker failed (exit codes {codes})", file=sys.stderr)
        sys.exit(1)
    sys.stdout.write(out.decode())


def load_data(args, rank, world, torch):
    if args.data:
        import h5py
        with h5py.File(args.data, "r") as f:
            n = f["features"].shape[0]
            lo, hi = rank * n // world, (rank + 1) * n // world
            x = torch.from_numpy(f["features"][lo:hi]).float()
            y = torch.from_numpy(f["labels"][lo:hi]).long()
        mean, std = x.mean(0), x.std(0)
        x = (x - mean) / torch.where(std > 0, std, torch.ones_like(std))
        return x.contiguous(), y
    gen = torch.Generator().manual_seed(1000 + rank)
    n = args.batch * 64
    return torch.rand(n, 784, generator=gen), torch.randint(0, 10, (n,), generator=gen)


def worker(args):
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import torch
    import torch.distributed as dist
    import torch.nn as nn
    from torch.nn.parallel import DistributedDataParallel as DDP
    from torch_bench import openblas_info, torch_blas_info

    torch.set_num_threads(1)
    blas = openblas_info(threads=1)
    dist.init_process_group("gloo", init_method="env://", rank=rank, world_size=world)

    torch.manual_seed(12345)
    widths = [784, 256, 128, 10]
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i + 2 < len(widths):
            layers.append(nn.ReLU())
    model = DDP(nn.Sequential(*layers))
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    x_all, y_all = load_data(args, rank, world, torch)
    n = x_all.shape[0]
    gen = torch.Generator().manual_seed(rank)
    state = dict(order=torch.randperm(n, generator=gen), pos=0)

    def step():
        if state["pos"] + args.batch > n:  # next epoch
            state["order"] = torch.randperm(n, generator=gen)
            state["pos"] = 0
        idx = state["order"][state["pos"]:state["pos"] + args.batch]
        state["pos"] += args.batch
        x, t = x_all[idx], y_all[idx]
        opt.zero_grad()
        loss = loss_fn(model(x), t)
        loss.backward()
        opt.step()
        return loss

    def timed(steps, sync=True):
        dist.barrier()
        start = time.perf_counter()
        if sync:
            for _ in range(steps):
                loss = step()
        else:
            with model.no_sync():
                for _ in range(steps):
                    loss = step()
        dist.barrier()
        return time.perf_counter() - start, float(loss.detach())

    for _ in range(args.warmup):
        step()
    rates, loss = [], float("nan")
    for _ in range(args.repetitions):
        seconds, loss = timed(args.steps)
        rates.append(world * args.batch * args.steps / seconds)
    no_sync = []
    for _ in range(args.no_sync_repetitions if args.no_sync_steps > 0 else 0):
        seconds, _ = timed(args.no_sync_steps, sync=False)
        no_sync.append(world * args.batch * args.no_sync_steps / seconds)
    dist.barrier()
    if rank == 0:
        print(json.dumps(dict(
            torch_version=torch.__version__, torch_threads=torch.get_num_threads(),
            torch_build_blas=torch_blas_info(), openblas=blas, backend=dist.get_backend(),
            world=world, batch_per_rank=args.batch, data=args.data or "random",
            steps_per_repetition=args.steps, samples_per_second=statistics.median(rates),
            samples_per_second_all=rates,
            no_sync_samples_per_second=statistics.median(no_sync) if no_sync else None,
            last_loss=loss), indent=1))
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=int, default=2, help="processes (ranks)")
    parser.add_argument("--batch", type=int, default=128, help="samples per rank per step")
    parser.add_argument("--data", default="", help="HDF5 file from `sinapsis data import` (default: random)")
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--warmup", type=int, default=30, help="untimed steps first")
    parser.add_argument("--steps", type=int, default=100, help="steps per timed repetition")
    parser.add_argument("--repetitions", type=int, default=7)
    parser.add_argument("--no-sync-steps", type=int, default=0,
                        help="also time repetitions of this many steps under no_sync() (0: skip)")
    parser.add_argument("--no-sync-repetitions", type=int, default=3)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
    else:
        launch(args)


if __name__ == "__main__":
    main()
