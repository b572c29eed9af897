#!/usr/bin/env python3
"""PyTorch reference for `melanoma bench --ref torch`: the study's baseline / augmented model, timed the same way
(median of `steps` train steps of Adam on binary cross-entropy, after warm-up) on the same batch shape.
Prints one JSON object. Runs on CPU (Debian's python3-torch) or on a CUDA GPU when one is present."""
import argparse, json, math, statistics, time

import torch
from torch import nn


def separable(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cin, 3, groups=cin, bias=False), nn.Conv2d(cin, cout, 1), nn.ReLU(), nn.MaxPool2d(2))


class Baseline(nn.Module):
    def __init__(self, dropout):
        super().__init__()
        self.features = nn.Sequential(separable(3, 32), separable(32, 64), separable(64, 128), separable(128, 256))
        self.dropout = nn.Dropout(0.5) if dropout else nn.Identity()
        self.head = nn.Sequential(nn.Linear(256, 16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid())

    def forward(self, x):
        return self.head(self.dropout(self.features(x)).mean(dim=(2, 3)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', default='baseline', choices=['baseline', 'augmented'])
    p.add_argument('--image-size', type=int, default=224)
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--steps', type=int, default=10)
    p.add_argument('--warmup', type=int, default=2)
    a = p.parse_args()
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    torch.manual_seed(1)
    model = Baseline(a.model == 'augmented').to(device)
    params = sum(t.numel() for t in model.parameters())
    assert params == 49756, params
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.BCELoss()
    x = torch.rand(a.batch_size, 3, a.image_size, a.image_size, device=device)
    y = (torch.arange(a.batch_size, device=device) % 2).float().unsqueeze(1)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()  # waits for the step to finish

    times = []
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        step()
        if i >= a.warmup:
            times.append((time.perf_counter() - t0) * 1000)
    med = statistics.median(times)
    print(json.dumps({'framework': f'torch {torch.__version__}', 'device': torch.cuda.get_device_name() if device == 'cuda' else f'cpu, {torch.get_num_threads()} threads',
                      'model': a.model, 'params': params, 'trainStepMsMedian': med, 'trainImagesPerSec': a.batch_size * 1000 / med}))


if __name__ == '__main__':
    main()
