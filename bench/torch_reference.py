#!/usr/bin/env python3
"""PyTorch reference for `melanoma bench --ref torch`: the study's baseline / augmented model, or Xception (Keras
architecture, random weights, frozen base in inference mode under the Flatten-Dense(16)-Dense(1) head, as the
study's `xception` model trains it), timed the same way (median of `steps` train steps of Adam on binary
cross-entropy, after warm-up) on the same batch shape. Prints one JSON object. Runs on CPU (Debian's
python3-torch) or on a CUDA GPU when one is present."""
import argparse, json, math, os, statistics, sys, time

# glibc hands every large tensor's memory back to the kernel when it is freed (mmap/munmap), so each step
# page-faults ~1 GB back in; on this project's virtual machines that makes PyTorch 4x slower at batch 32 (15.6 s
# against 3.8 s a step at 224 px). Keeping freed memory in the heap gives the reference its best speed; glibc
# reads these settings at start-up, hence the re-exec.
MALLOC_ENV = {'MALLOC_MMAP_MAX_': '0', 'MALLOC_TRIM_THRESHOLD_': str(1 << 40)}
if any(os.environ.get(k) != v for k, v in MALLOC_ENV.items()) and os.environ.get('MELANOMA_TORCH_DEFAULT_MALLOC') != '1':
    os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, **MALLOC_ENV})

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


def max_pool_same(x):
    """Keras MaxPooling2D(3, strides=2, padding='same'): TensorFlow pads the extra row/column at the bottom/right."""
    h, w = x.shape[2], x.shape[3]
    ph = max((math.ceil(h / 2) - 1) * 2 + 3 - h, 0)
    pw = max((math.ceil(w / 2) - 1) * 2 + 3 - w, 0)
    x = nn.functional.pad(x, (pw // 2, pw - pw // 2, ph // 2, ph - ph // 2), value=float('-inf'))
    return nn.functional.max_pool2d(x, 3, 2)


def sep(cin, cout):
    """Keras SeparableConv2D(cout, 3, padding='same', use_bias=False) followed by BatchNormalization."""
    return nn.Sequential(nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False), nn.Conv2d(cin, cout, 1, bias=False),
                         nn.BatchNorm2d(cout, eps=1e-3))


def conv_bn(cin, cout, k, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride=stride, bias=False), nn.BatchNorm2d(cout, eps=1e-3))


class EntryBlock(nn.Module):
    def __init__(self, cin, cout, relu_first):
        super().__init__()
        self.relu_first = relu_first
        self.sep1, self.sep2, self.residual = sep(cin, cout), sep(cout, cout), conv_bn(cin, cout, 1, 2)

    def forward(self, x):
        y = torch.relu(x) if self.relu_first else x
        y = self.sep2(torch.relu(self.sep1(y)))
        return max_pool_same(y) + self.residual(x)


class MiddleBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.seps = nn.ModuleList([sep(728, 728) for _ in range(3)])

    def forward(self, x):
        y = x
        for s in self.seps:
            y = s(torch.relu(y))
        return x + y


class XceptionBase(nn.Module):
    """keras.applications.Xception(include_top=False): 20,861,480 weights counting batch norm's moving statistics."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(conv_bn(3, 32, 3, 2), nn.ReLU(), conv_bn(32, 64, 3, 1), nn.ReLU())
        self.entry = nn.Sequential(EntryBlock(64, 128, False), EntryBlock(128, 256, True), EntryBlock(256, 728, True))
        self.middle = nn.Sequential(*[MiddleBlock() for _ in range(8)])
        self.exit_sep1, self.exit_sep2, self.exit_residual = sep(728, 728), sep(728, 1024), conv_bn(728, 1024, 1, 2)
        self.exit_sep3, self.exit_sep4 = sep(1024, 1536), sep(1536, 2048)

    def forward(self, x):
        x = self.middle(self.entry(self.stem(x)))
        y = self.exit_sep2(torch.relu(self.exit_sep1(torch.relu(x))))
        x = max_pool_same(y) + self.exit_residual(x)
        return torch.relu(self.exit_sep4(torch.relu(self.exit_sep3(x))))


class XceptionFrozen(nn.Module):
    def __init__(self, image_size):
        super().__init__()
        self.base = XceptionBase()
        for p in self.base.parameters():
            p.requires_grad_(False)
        side = image_size
        for _ in range(2):
            side = (side - 3) // 2 + 1 if _ == 0 else side - 2
        for _ in range(4):
            side = math.ceil(side / 2)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(2048 * side * side, 16), nn.ReLU(), nn.Linear(16, 1), nn.Sigmoid())

    def train(self, mode=True):
        super().train(mode)
        self.base.eval()  # the pretrained base always runs in inference mode (frozen batch norm)
        return self

    def forward(self, x):
        return self.head(self.base(x).permute(0, 2, 3, 1))  # flatten in Keras' channels-last order


def keras_weight_count(module):
    return sum(t.numel() for t in module.parameters()) + sum(
        b.numel() for name, b in module.named_buffers() if not name.endswith('num_batches_tracked'))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', default='baseline', choices=['baseline', 'augmented', 'xception'])
    p.add_argument('--image-size', type=int, default=224)
    p.add_argument('--batch-size', type=int, default=32)
    p.add_argument('--steps', type=int, default=10)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--threads', type=int, help="CPU threads (default: torch's own default)")
    a = p.parse_args()
    if a.threads is not None:
        torch.set_num_threads(a.threads)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    if device == 'cuda':
        torch.backends.cudnn.benchmark = True
    torch.manual_seed(1)
    if a.model == 'xception':
        model = XceptionFrozen(a.image_size).to(device)
        assert keras_weight_count(model.base) == 20861480, keras_weight_count(model.base)
    else:
        model = Baseline(a.model == 'augmented').to(device)
        assert keras_weight_count(model) == 49756, keras_weight_count(model)
    model.train()
    params = keras_weight_count(model)
    opt = torch.optim.Adam([t for t in model.parameters() if t.requires_grad], lr=1e-3, eps=1e-7)
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
