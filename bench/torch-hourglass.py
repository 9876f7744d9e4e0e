#!/usr/bin/env python3
# PyTorch peer of src/model for `hourglass bench` (bench only, never the product): the same stacked hourglass, layer
# for layer, timed for batch-1 inference and RMSprop training; or exported to ONNX for the onnxruntime-node peer.
# On CUDA when torch sees a GPU (--device auto, the default), else on the CPU with the thread settings.
# Usage: python3 bench/torch-hourglass.py '<MeasureRequest JSON>' [--stacks S --features F --input N --joints K] [--device auto|cpu|cuda]
#        python3 bench/torch-hourglass.py --export model.onnx --stacks S --features F --input N --joints K
import argparse
import json
import os
import resource
import statistics
import sys
import time
import warnings

# Thread settings of the reference figures; the OpenMP/OpenBLAS ones must be set before torch loads.
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


class Residual(nn.Module):
    """Pre-activation bottleneck: BN-ReLU-conv1x1(in->out/2), BN-ReLU-conv3x3, BN-ReLU-conv1x1(->out); skip conv1x1 if in != out."""

    def __init__(self, cin, cout):
        super().__init__()
        mid = cout // 2
        self.bn1, self.conv1 = nn.BatchNorm2d(cin), nn.Conv2d(cin, mid, 1)
        self.bn2, self.conv2 = nn.BatchNorm2d(mid), nn.Conv2d(mid, mid, 3, padding=1)
        self.bn3, self.conv3 = nn.BatchNorm2d(mid), nn.Conv2d(mid, cout, 1)
        self.skip = None if cin == cout else nn.Conv2d(cin, cout, 1)

    def forward(self, x):
        h = self.conv1(F.relu(self.bn1(x), inplace=True))
        h = self.conv2(F.relu(self.bn2(h), inplace=True))
        h = self.conv3(F.relu(self.bn3(h), inplace=True))
        return h + (x if self.skip is None else self.skip(x))


class Hourglass(nn.Module):
    """up = Residual; low = pool -> Residual -> Hourglass(n-1) | Residual -> Residual -> nearest 2x upsample."""

    def __init__(self, depth, f):
        super().__init__()
        self.up, self.low1 = Residual(f, f), Residual(f, f)
        self.inner = Hourglass(depth - 1, f) if depth > 1 else Residual(f, f)
        self.low3 = Residual(f, f)

    def forward(self, x):
        low = self.low3(self.inner(self.low1(F.max_pool2d(x, 2, 2))))
        return self.up(x) + F.interpolate(low, scale_factor=2, mode='nearest')


class StackedHourglass(nn.Module):
    """Stem conv7x7/2+BN+ReLU, Residual(64,128), pool, Residual(128,128), Residual(128,f); per stack: hourglass,
    head Residual -> conv1x1+BN+ReLU -> conv1x1 to K heatmaps; merges x + mergeFeatures(feat) + mergeHeatmaps(hm)."""

    def __init__(self, stacks, f, joints, depth=4):
        super().__init__()
        self.stem_conv, self.stem_bn = nn.Conv2d(3, 64, 7, stride=2, padding=3), nn.BatchNorm2d(64)
        self.res1, self.res2, self.res3 = Residual(64, 128), Residual(128, 128), Residual(128, f)
        self.hgs = nn.ModuleList([Hourglass(depth, f) for _ in range(stacks)])
        self.head_res = nn.ModuleList([Residual(f, f) for _ in range(stacks)])
        self.head_conv = nn.ModuleList([nn.Conv2d(f, f, 1) for _ in range(stacks)])
        self.head_bn = nn.ModuleList([nn.BatchNorm2d(f) for _ in range(stacks)])
        self.head_out = nn.ModuleList([nn.Conv2d(f, joints, 1) for _ in range(stacks)])
        self.merge_features = nn.ModuleList([nn.Conv2d(f, f, 1) for _ in range(stacks - 1)])
        self.merge_heatmaps = nn.ModuleList([nn.Conv2d(joints, f, 1) for _ in range(stacks - 1)])

    def forward(self, image):
        x = self.res1(F.relu(self.stem_bn(self.stem_conv(image)), inplace=True))
        x = self.res3(self.res2(F.max_pool2d(x, 2, 2)))
        outputs = []
        for i, hg in enumerate(self.hgs):
            features = F.relu(self.head_bn[i](self.head_conv[i](self.head_res[i](hg(x)))), inplace=True)
            heatmaps = self.head_out[i](features)
            outputs.append(heatmaps)
            if i < len(self.hgs) - 1:
                x = x + self.merge_features[i](features) + self.merge_heatmaps[i](heatmaps)
        return outputs


class FinalHeatmaps(nn.Module):
    """Inference view: the last stack's heatmaps only (what the ONNX model returns)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, image):
        return self.net(image)[-1]


def heatmap_loss(outputs, targets, weights):
    """Sum over stacks of mean(weight * (prediction - target)^2), as src/train/loss.ts."""
    mask = weights[:, :, None, None]
    return sum(torch.mean(mask * (out - targets) ** 2) for out in outputs)


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # ru_maxrss is KiB on Linux


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_inference(net, size, runs, warmup, device):
    net.eval()
    x = torch.rand(1, 3, size, size, device=device)
    times = []
    with torch.no_grad():
        for i in range(warmup + runs):
            sync(device)
            t0 = time.perf_counter()
            net(x)[-1].sum().item()  # .item() waits for the result, on the GPU too
            if i >= warmup:
                times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def time_training(net, size, joints, batch, steps, warmup, device):
    net.train()
    opt = torch.optim.RMSprop(net.parameters(), lr=2.5e-4, alpha=0.99, eps=1e-8)
    x = torch.rand(batch, 3, size, size, device=device)
    y = torch.rand(batch, joints, size // 4, size // 4, device=device)
    w = torch.ones(batch, joints, device=device)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = heatmap_loss(net(x), y, w)
        loss.backward()
        opt.step()
        value = loss.item()
        if value != value or abs(value) == float('inf'):
            raise RuntimeError(f'training step gave a non-finite loss ({value})')

    for _ in range(warmup):
        step()
    sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    return batch * steps / (time.perf_counter() - t0)


def pick_device(asked):
    """'auto': cuda when torch sees a GPU, else cpu; 'cuda' without one is an error."""
    if asked == 'cpu' or (asked == 'auto' and not torch.cuda.is_available()):
        return torch.device('cpu')
    if not torch.cuda.is_available():
        raise RuntimeError('--device cuda: torch.cuda.is_available() is False (no GPU, or a torch built without CUDA)')
    torch.backends.cudnn.benchmark = True  # what a PyTorch user training on a GPU sets
    return torch.device('cuda')


def describe_device(device, threads):
    if device.type == 'cuda':
        return f'cuda ({torch.cuda.get_device_name(device)}, CUDA {torch.version.cuda})'
    return f'cpu ({threads} threads)'


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('request', nargs='?', help='MeasureRequest JSON (see src/bench/configs.ts)')
    p.add_argument('--export', help='write the network (final heatmaps, batch 1) as ONNX to this file and exit')
    p.add_argument('--stacks', type=int, required=True)
    p.add_argument('--features', type=int, required=True)
    p.add_argument('--input', type=int, required=True)
    p.add_argument('--joints', type=int, required=True)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--device', choices=['auto', 'cpu', 'cuda'], default='auto')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    net = StackedHourglass(a.stacks, a.features, a.joints)
    parameters = sum(t.numel() for t in net.parameters() if t.requires_grad)
    if a.export:
        warnings.filterwarnings('ignore')  # the exporter's shape-inference chatter; errors still raise
        net.eval()
        dummy = torch.rand(1, 3, a.input, a.input)
        torch.onnx.export(FinalHeatmaps(net), dummy, a.export, opset_version=13, input_names=['image'], output_names=['heatmaps'])
        print(json.dumps({'parameters': parameters, 'onnx': a.export}))
        return
    if not a.request:
        p.error('give a MeasureRequest JSON or --export FILE')
    r = json.loads(a.request)
    device = pick_device(a.device)
    net = net.to(device)
    infer_ms = time_inference(net, a.input, r['inferRuns'], r['inferWarmup'], device) if r['inferRuns'] > 0 else None
    train = time_training(net, a.input, a.joints, r['trainBatch'], r['trainSteps'], r['trainWarmup'], device) if r['trainSteps'] > 0 else None
    print(json.dumps({
        'engine': 'pytorch', 'config': r['config'], 'inferMs': infer_ms, 'trainImgPerSec': train, 'peakRssMb': peak_rss_mb(),
        'trainBatch': r['trainBatch'] if r['trainSteps'] > 0 else None, 'trainSteps': r['trainSteps'],
        'parameters': parameters, 'version': f'torch {torch.__version__} ({torch.get_num_threads()} threads)',
        'device': describe_device(device, torch.get_num_threads()),
    }))


if __name__ == '__main__':
    try:
        main()
    except Exception as err:  # one line for the bench's report, and a non-zero exit
        print(f'{type(err).__name__}: {err}', file=sys.stderr)
        sys.exit(1)
