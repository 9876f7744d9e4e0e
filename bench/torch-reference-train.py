#!/usr/bin/env python3
# Independent PyTorch reference of the issue-4 training recipe (bench only, never the product): the network of
# bench/torch-hourglass.py trained on LSPET with its own data pipeline (PIL affine crops, NumPy targets), so that
# our trainer's accuracy can be compared with a second implementation on the same split.
# Recipe: crop = square of 1.25 x the labelled joints' box around its centre; scale 2^clamp(0.25 N, -0.5, 0.5),
# rotation clamp(30 N, -60, 60) with probability 0.4, flip 0.5 with joint swap, colour U(0.6, 1.4) per channel;
# Gaussian targets (sigma 1, sub-pixel centre) on 32x32 maps, unlabelled joints masked; RMSprop 2.5e-4, batch 16;
# validation PCK@0.2 (torso = right shoulder to left hip of the truth) with the flip test.
# Usage: python3 bench/torch-reference-train.py --root ../shared/data/lspet --train 1-6000 --val 6001-7000 \
#          --images 52000 [--stacks 1 --features 128 --input 128 --seed 1 --threads 2]
import argparse
import importlib.util
import math
import os
import sys
import time

# Thread settings as bench/torch-hourglass.py; they must be set before torch loads (busy-waiting OpenMP threads
# cost a third of the step time on this 2-core machine).
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
import numpy as np  # noqa: E402
import scipy.io  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location('torch_hourglass', os.path.join(HERE, 'torch-hourglass.py'))
th = importlib.util.module_from_spec(spec)
spec.loader.exec_module(th)

FLIP_PAIRS = [(0, 5), (1, 4), (2, 3), (6, 11), (7, 10), (8, 9)]
PERM = list(range(14))
for a, b in FLIP_PAIRS:
    PERM[a], PERM[b] = b, a


def parse_range(text):
    a, b = text.split('-')
    return list(range(int(a), int(b) + 1))


def load_lspet(root, indices):
    joints = scipy.io.loadmat(os.path.join(root, 'joints.mat'))['joints']  # 14 x 3 x N
    samples = []
    for i in indices:
        j = joints[:, :, i - 1]
        vis = (j[:, 2] == 1).astype(np.float32)
        pts = j[:, :2].astype(np.float64).copy()  # pixel-centre coordinates, as our reader (origin 0)
        pts[vis == 0] = 0
        lab = pts[vis == 1]
        x0, y0 = lab.min(0)
        x1, y1 = lab.max(0)
        center = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        scale = max(x1 - x0, y1 - y0) * 1.25 / 200
        samples.append(dict(path=os.path.join(root, 'images', 'im%05d.jpg' % i), pts=pts, vis=vis, center=center, scale=scale))
    return samples


def crop_matrix(center, scale, rot_deg, size):
    """3x3 affine: image continuous coords (pixel i spans [i, i+1]) -> crop continuous coords."""
    s = size / (200.0 * scale)
    r = math.radians(rot_deg)
    cos, sin = math.cos(r), math.sin(r)
    cx, cy = center[0] + 0.5, center[1] + 0.5
    # translate centre to origin, scale, rotate (counter-clockwise in the image for positive angles), move to crop centre
    a = np.array([[cos * s, sin * s, 0], [-sin * s, cos * s, 0], [0, 0, 1]])
    t0 = np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1]])
    t1 = np.array([[1, 0, size / 2], [0, 1, size / 2], [0, 0, 1]])
    return t1 @ a @ t0


def make_example(sample, size, rng, augment, cache):
    img = cache.get(sample['path'])
    if img is None:
        img = Image.open(sample['path']).convert('RGB')
        cache[sample['path']] = img
    scale, rot, flip = sample['scale'], 0.0, False
    if augment:
        scale *= 2 ** float(np.clip(0.25 * rng.standard_normal(), -0.5, 0.5))
        rot = float(np.clip(30 * rng.standard_normal(), -60, 60)) if rng.random() <= 0.4 else 0.0
        flip = rng.random() < 0.5
    m = crop_matrix(sample['center'], scale, rot, size)
    inv = np.linalg.inv(m)
    crop = img.transform((size, size), Image.AFFINE, data=tuple(inv[:2].reshape(-1)), resample=Image.BILINEAR)
    x = np.asarray(crop, dtype=np.float32) / 255.0
    pts = sample['pts'] + 0.5
    cp = (m[:2, :2] @ pts.T).T + m[:2, 2]  # crop continuous coords
    vis = sample['vis'].copy()
    if flip:
        x = x[:, ::-1]
        cp[:, 0] = size - cp[:, 0]
        cp, vis = cp[PERM], vis[PERM]
    if augment:
        x = np.clip(x * rng.uniform(0.6, 1.4, size=3).astype(np.float32), 0, 1)
    return np.ascontiguousarray(x.transpose(2, 0, 1)), cp, vis, m


def targets(cp, vis, hm):
    t = np.zeros((14, hm, hm), dtype=np.float32)
    grid = np.arange(hm, dtype=np.float32)
    for k in range(14):
        if not vis[k]:
            continue
        mx, my = cp[k] / 4 - 0.5  # heatmap pixel-centre coordinates
        gx = np.exp(-((grid - mx) ** 2) / 2)
        gy = np.exp(-((grid - my) ** 2) / 2)
        gx[np.abs(grid - mx) > 3] = 0
        gy[np.abs(grid - my) > 3] = 0
        t[k] = gy[:, None] * gx[None, :]
    return t


def decode(h):
    """h: K x H x W -> K x 2 heatmap pixel-centre coords (argmax + quarter step toward the higher neighbour)."""
    k, hh, ww = h.shape
    out = np.zeros((k, 2))
    for j in range(k):
        idx = int(np.argmax(h[j]))
        y, x = divmod(idx, ww)
        px, py = float(x), float(y)
        if 0 < x < ww - 1:
            px += 0.25 * np.sign(h[j, y, x + 1] - h[j, y, x - 1])
        if 0 < y < hh - 1:
            py += 0.25 * np.sign(h[j, y + 1, x] - h[j, y - 1, x])
        out[j] = (px, py)
    return out


def validate(net, samples, size, cache):
    net.eval()
    correct = counted = 0
    per_joint = np.zeros((14, 2))
    with torch.no_grad():
        for b in range(0, len(samples), 32):
            batch = samples[b:b + 32]
            ex = [make_example(s, size, None, False, cache) for s in batch]
            x = torch.from_numpy(np.stack([e[0] for e in ex]))
            h = net(x)[-1]
            hf = net(torch.flip(x, [3]))[-1]
            h = ((h + torch.flip(hf, [3])[:, PERM]) / 2).numpy()
            for s, e, hm in zip(batch, ex, h):
                p = (decode(hm) + 0.5) * 4  # crop continuous coords
                inv = np.linalg.inv(e[3])
                img = (inv[:2, :2] @ p.T).T + inv[:2, 2] - 0.5
                if not (s['vis'][8] and s['vis'][3]):
                    continue
                torso = np.linalg.norm(s['pts'][8] - s['pts'][3])
                if torso <= 0:
                    continue
                d = np.linalg.norm(img - s['pts'], axis=1)
                ok = (d <= 0.2 * torso) & (s['vis'] == 1)
                correct += ok.sum()
                counted += s['vis'].sum()
                per_joint[:, 0] += ok
                per_joint[:, 1] += s['vis']
    net.train()
    return 100.0 * correct / counted, int(counted), 100 * per_joint[:, 0] / np.maximum(per_joint[:, 1], 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--root', required=True)
    ap.add_argument('--train', default='1-6000')
    ap.add_argument('--val', default='6001-7000')
    ap.add_argument('--images', type=int, default=52000)
    ap.add_argument('--val-every', type=int, default=6000)
    ap.add_argument('--stacks', type=int, default=1)
    ap.add_argument('--features', type=int, default=128)
    ap.add_argument('--input', type=int, default=128)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--lr', type=float, default=2.5e-4)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train = load_lspet(args.root, parse_range(args.train))
    val = load_lspet(args.root, parse_range(args.val))
    cache = {}
    net = th.StackedHourglass(args.stacks, args.features, 14)
    opt = torch.optim.RMSprop(net.parameters(), lr=args.lr, alpha=0.99, eps=1e-8)
    hm = args.input // 4
    seen, t0, order, pos, next_val = 0, time.time(), [], 0, args.val_every
    net.train()
    while seen < args.images:
        xs, ts, ws = [], [], []
        for _ in range(min(args.batch, args.images - seen)):
            if pos >= len(order):
                order, pos = rng.permutation(len(train)), 0
            s = train[order[pos]]
            pos += 1
            x, cp, vis, _ = make_example(s, args.input, rng, True, cache)
            xs.append(x)
            ts.append(targets(cp, vis, hm))
            ws.append(vis)
        x = torch.from_numpy(np.stack(xs))
        t = torch.from_numpy(np.stack(ts))
        w = torch.from_numpy(np.stack(ws).astype(np.float32))
        opt.zero_grad(set_to_none=True)
        loss = th.heatmap_loss(net(x), t, w)
        loss.backward()
        opt.step()
        seen += len(xs)
        if (seen // args.batch) % 50 == 0:
            el = time.time() - t0
            print(f'{seen} images, loss {loss.item():.3e}, {seen / el:.1f} img/s, {el / 60:.1f} min', flush=True)
        if seen >= next_val or seen >= args.images:
            next_val += args.val_every
            pck, n, pj = validate(net, val, args.input, cache)
            print(f'VAL images {seen} PCK@0.2 {pck:.2f} ({n} joints) minutes {(time.time() - t0) / 60:.1f} '
                  + ' '.join(f'{v:.1f}' for v in pj), flush=True)


if __name__ == '__main__':
    sys.exit(main())
