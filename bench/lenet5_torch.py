#!/usr/bin/python3
"""PyTorch side of bench/train_throughput.sh: trains the same LeNet-5 as `nanoml train lenet5`
(input 32x32x1, conv 6@5x5 tanh, avgpool 2 + sigmoid, conv 16@5x5 tanh, avgpool 2 + sigmoid,
conv 120@5x5 tanh, dense 84 tanh, dense 10 softmax; 61,706 parameters) with Adam on
Fashion-MNIST on ONE thread and prints the training throughput in images/s.

Benchmark only: nanoml's build and tests never run Python."""
import argparse
import gzip
import struct
import time

import numpy as np
import torch
import torch.nn as nn


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    rank = magic & 0xFF
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Sigmoid(),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Sigmoid(),
        nn.Conv2d(16, 120, 5), nn.Tanh(), nn.Flatten(),
        nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10))  # softmax is inside the loss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--test", action="store_true", help="also print the test accuracy")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    images = read_idx(args.data + "/train-images-idx3-ubyte.gz")
    labels = read_idx(args.data + "/train-labels-idx1-ubyte.gz")
    x = np.zeros((images.shape[0], 1, 32, 32), dtype=np.float32)
    x[:, 0, 2:30, 2:30] = images / np.float32(255.0)
    x = torch.from_numpy(x)
    y = torch.from_numpy(labels.astype(np.int64))
    n = x.shape[0]

    model = lenet5()
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(args.seed)

    seen = 0
    start = time.perf_counter()
    for _ in range(args.epochs):
        order = torch.randperm(n, generator=gen)
        for b in range(0, n, args.batch):
            idx = order[b:b + args.batch]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            seen += idx.shape[0]
    seconds = time.perf_counter() - start
    print(f"pytorch {torch.__version__}: params {params}, batch {args.batch}, "
          f"{seen} images in {seconds:.2f} s, {seen / seconds:.0f} images/s (1 thread)")
    if args.test:
        ti = read_idx(args.data + "/t10k-images-idx3-ubyte.gz")
        tl = read_idx(args.data + "/t10k-labels-idx1-ubyte.gz")
        tx = np.zeros((ti.shape[0], 1, 32, 32), dtype=np.float32)
        tx[:, 0, 2:30, 2:30] = ti / np.float32(255.0)
        with torch.no_grad():
            pred = model(torch.from_numpy(tx)).argmax(dim=1).numpy()
        print(f"pytorch test accuracy: {100.0 * (pred == tl).mean():.2f}%")


if __name__ == "__main__":
    main()
