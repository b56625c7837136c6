#!/usr/bin/python3
"""Write the two small results folders that NotebooksTest runs notebooks/explore_training_run.ipynb on.

    /usr/bin/python3 make_run_fixtures.py [REF_DIR]

run2d/  a 2-D run: config.json, model.safetensors and ema.safetensors of the reference's
        Unet(dim=4, dim_mults=(1, 2), channels=1, attn_heads=1, attn_dim_head=4) (12,261 parameters,
        141 tensors; built by denoising-diffusion-pytorch 2.3.1 from REF_DIR, default /tmp/ref, with the
        stand-ins of ../reference/make_fixtures.py), a made-up metrics.jsonl and two tiny sample grids.
        The EMA weights are the model weights plus a little noise, so that the comparison has something
        to show.
run1d/  a 1-D run without EMA: ../reference/unet1d_basic's config and weights (Unet1D, 44,178
        parameters, 138 tensors), a made-up metrics.jsonl and sample-300.npy [4, 16, 2].

The numbers in metrics.jsonl and the samples are synthetic: they only have the layout that
diffusion4j's Trainer writes.
"""

import json
import math
import os
import shutil
import struct
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, '..', 'reference')
sys.path.insert(0, REFERENCE)
import make_fixtures  # noqa: E402  (the reference fixtures' stand-ins and loader)


def write_safetensors(path, arrays, metadata=None):
    header = {}
    if metadata:
        header['__metadata__'] = metadata
    offset = 0
    for name, a in arrays.items():
        n = a.size * 4
        header[name] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [offset, offset + n]}
        offset += n
    text = json.dumps(header, separators=(',', ':')).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for a in arrays.values():
            f.write(np.ascontiguousarray(a, dtype='<f4').tobytes())


def write_metrics(path, steps, lr, loss0, loss_end, seed):
    rng = np.random.default_rng(seed)
    t0 = 1795300000.0
    with open(path, 'w') as f:
        for i, step in enumerate(steps):
            loss = loss_end + (loss0 - loss_end) * math.exp(-step / (steps[-1] / 4)) + 0.02 * rng.standard_normal()
            elapsed = 3.0 + 0.31 * step
            f.write(json.dumps({'step': int(step), 'loss': round(abs(loss), 7), 'lr': lr,
                                'time': round(t0 + elapsed, 3), 'elapsed': round(elapsed, 3)},
                               separators=(',', ':')) + '\n')


def grid_png(path, images, nrow, padding=2):
    """images [N, H, W] in [0, 1] -> a grey grid with zero padding, as torchvision's make_grid."""
    n, h, w = images.shape
    rows = (n + nrow - 1) // nrow
    out = np.zeros((rows * (h + padding) + padding, nrow * (w + padding) + padding), np.uint8)
    for k in range(n):
        r, c = divmod(k, nrow)
        y, x = padding + r * (h + padding), padding + c * (w + padding)
        out[y:y + h, x:x + w] = np.round(np.clip(images[k], 0, 1) * 255).astype(np.uint8)
    Image.fromarray(out, mode='L').save(path)


def write_json(path, obj):
    with open(path, 'w') as f:
        json.dump(obj, f, indent=2)
        f.write('\n')


def unet_json(rank, dim, dim_mults, channels, heads, dim_head):
    j = {'type': 'Unet' if rank == 2 else 'Unet1D', 'dim': dim, 'init_dim': dim, 'out_dim': channels,
         'dim_mults': dim_mults, 'channels': channels, 'self_condition': False, 'learned_variance': False,
         'learned_sinusoidal_cond': False, 'random_fourier_features': False, 'learned_sinusoidal_dim': 16,
         'sinusoidal_pos_emb_theta': 10000.0, 'dropout': 0.0}
    if rank == 2:
        stages = len(dim_mults)
        j.update(attn_dim_head=[dim_head] * stages, attn_heads=[heads] * stages,
                 full_attn=[False] * (stages - 1) + [True], flash_attn=False)
    else:
        j.update(attn_dim_head=dim_head, attn_heads=heads)
    return j


def diffusion_json(rank, size, objective, schedule):
    j = {'type': 'GaussianDiffusion' if rank == 2 else 'GaussianDiffusion1D'}
    if rank == 2:
        j['image_size'] = size
    else:
        j['seq_length'] = size
    j.update(timesteps=100, sampling_timesteps=10, objective=objective, beta_schedule=schedule,
             schedule_fn_kwargs={}, ddim_sampling_eta=0.0, auto_normalize=True, offset_noise_strength=0.0,
             min_snr_loss_weight=False, min_snr_gamma=5.0)
    return j


def run2d(ref_dir, out):
    make_fixtures.install_stubs()
    ddp, _, version = make_fixtures.import_reference(ref_dir)
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(11)
    net = make_fixtures.randomize(ddp.Unet(dim=4, dim_mults=(1, 2), channels=1, attn_heads=1, attn_dim_head=4))
    model = {k: v.detach().numpy().astype(np.float32) for k, v in net.state_dict().items()}
    rng = np.random.default_rng(12)
    ema = {k: (v + 0.01 * (np.std(v) + 1e-3) * rng.standard_normal(v.shape)).astype(np.float32)
           for k, v in model.items()}
    write_safetensors(os.path.join(out, 'model.safetensors'), model, {'format': 'pt'})
    write_safetensors(os.path.join(out, 'ema.safetensors'), ema, {'format': 'pt'})
    write_json(os.path.join(out, 'config.json'), {'model': unet_json(2, 4, [1, 2], 1, 1, 4),
                                                  'diffusion': diffusion_json(2, [8, 8], 'pred_v', 'sigmoid')})
    write_metrics(os.path.join(out, 'metrics.jsonl'), list(range(10, 401, 10)), 0.001, 0.35, 0.06, 13)
    yy, xx = np.mgrid[0:8, 0:8] / 7.0
    for step, sharp in ((200, 0.5), (400, 1.0)):
        imgs = np.stack([sharp * xx, sharp * yy, sharp * (1 - xx), sharp * np.abs(xx - yy)]) + (1 - sharp) * 0.5
        grid_png(os.path.join(out, f'sample-{step}.png'), imgs, nrow=2)
    n = sum(v.size for v in model.values())
    print(f'{out}: reference {version}, {len(model)} tensors, {n:,} parameters')


def run1d(out):
    os.makedirs(out, exist_ok=True)
    src = os.path.join(REFERENCE, 'unet1d_basic')
    shutil.copyfile(os.path.join(src, 'model.safetensors'), os.path.join(out, 'model.safetensors'))
    with open(os.path.join(src, 'config.json')) as f:
        m = json.load(f)['model']
    write_json(os.path.join(out, 'config.json'),
               {'model': unet_json(1, m['dim'], m['dim_mults'], m['channels'], m['attn_heads'], m['attn_dim_head']),
                'diffusion': diffusion_json(1, 16, 'pred_noise', 'cosine')})
    write_metrics(os.path.join(out, 'metrics.jsonl'), list(range(10, 301, 10)), 0.0002, 0.30, 0.05, 14)
    t = np.arange(16) / 16.0
    seqs = np.stack([np.stack([0.5 + 0.4 * np.sin(2 * np.pi * (k + 1) * t),
                               0.5 + 0.3 * np.cos(2 * np.pi * (k + 1) * t)], axis=-1) for k in range(4)])
    np.save(os.path.join(out, 'sample-300.npy'), seqs.astype(np.float32))
    print(f'{out}: copied unet1d_basic, sample-300.npy {seqs.shape}')


if __name__ == '__main__':
    ref = sys.argv[1] if len(sys.argv) > 1 else '/tmp/ref'
    run2d(ref, os.path.join(HERE, 'run2d'))
    run1d(os.path.join(HERE, 'run1d'))
