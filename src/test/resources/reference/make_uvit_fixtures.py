#!/usr/bin/python3
"""Fixtures for the reference's simple_diffusion.UViT (the U-ViT of Hoogeboom et al.'s simple diffusion).

Usage:  /usr/bin/python3 make_uvit_fixtures.py [REF_DIR] [--out OUT_DIR]

Shares make_fixtures.py's stand-ins, writers and helpers (see README.md). Each case seeds
torch.manual_seed(k) before building its model.
"""

import argparse
import os

import numpy as np
import torch

import make_fixtures as mf


def install_uvit_shim():
    """The einops patterns simple_diffusion.py uses beyond make_fixtures' shim: pack/unpack 'b * c',
    the transformer's head split/merge, the layout swaps around it and dual_patchnorm's patching,
    and Upsample's init repeat 'o ... -> (o r) ...'."""
    einops = mf.sys.modules['einops']
    if getattr(einops, '__version__', '') != 'shim':
        return

    def pack(tensors, pattern):
        assert mf.norm_pattern(pattern) == 'b * c' and len(tensors) == 1
        t = tensors[0]
        return t.reshape(t.shape[0], -1, t.shape[-1]), [t.shape[1:-1]]

    def unpack(t, shapes, pattern):
        assert mf.norm_pattern(pattern) == 'b * c'
        return [t.reshape(t.shape[0], *shapes[0], t.shape[-1])]

    def split_heads(t, h):                          # 'b n (h d) -> b h n d'
        b, n, hd = t.shape
        return t.reshape(b, n, h, hd // h).permute(0, 2, 1, 3)

    def merge_heads(t):                             # 'b h n d -> b n (h d)'
        b, h, n, d = t.shape
        return t.permute(0, 2, 1, 3).reshape(b, n, h * d)

    def patches_last(t, p1, p2):                    # 'b c (h p1) (w p2) -> b h w (c p1 p2)'
        b, c, hh, ww = t.shape
        t = t.reshape(b, c, hh // p1, p1, ww // p2, p2)
        return t.permute(0, 2, 4, 1, 3, 5).reshape(b, hh // p1, ww // p2, c * p1 * p2)

    table = {
        'b c h w -> b h w c': lambda t: t.permute(0, 2, 3, 1),
        'b h w c -> b c h w': lambda t: t.permute(0, 3, 1, 2),
        'b d -> b 1 d': lambda t: t.unsqueeze(1),
        'b n (h d) -> b h n d': split_heads,
        'b h n d -> b n (h d)': merge_heads,
        'b c (h p1) (w p2) -> b h w (c p1 p2)': patches_last,
    }
    real_rearrange, real_repeat = einops.rearrange, einops.repeat

    def rearrange(t, pattern, **axes):
        f = table.get(mf.norm_pattern(pattern))
        return f(t, **axes) if f else real_rearrange(t, pattern, **axes)

    def repeat(t, pattern, **axes):
        if mf.norm_pattern(pattern) == 'o ... -> (o r) ...':
            return t.repeat_interleave(axes['r'], dim=0)
        return real_repeat(t, pattern, **axes)

    class Rearrange(torch.nn.Module):
        def __init__(self, pattern, **axes):
            super().__init__()
            self.pattern = pattern
            self.axes = axes

        def forward(self, x):
            return rearrange(x, self.pattern, **self.axes)

    einops.pack, einops.unpack, einops.rearrange, einops.repeat = pack, unpack, rearrange, repeat
    mf.sys.modules['einops.layers.torch'].Rearrange = Rearrange


def randomize(model):
    """Conv and linear weights keep PyTorch's initialisation; every parameter that starts constant (gains,
    q/k scales, LayerNorms, biases, FeedForward's zero-initialised modulation) is drawn instead, and
    Upsample's repeated weights are perturbed, so that each matters in the comparison."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            module, leaf = name.rsplit('.', 1)
            layer_norm = isinstance(model.get_submodule(module), torch.nn.LayerNorm)
            if leaf in ('g', 'q_scale', 'k_scale') or (layer_norm and leaf == 'weight'):
                p.copy_(1 + 0.1 * torch.randn_like(p))
            elif leaf == 'bias' or 'to_scale_shift' in name:
                p.copy_(0.1 * torch.randn_like(p))
            elif '.net.0.' in name:                      # Upsample's conv, kaiming init repeated
                p.add_(0.1 * torch.randn_like(p))
            elif leaf not in ('weight', 'weights'):      # weights: the Fourier frequencies, randn already
                raise ValueError(f'unhandled parameter {name}')
    return model


def case(out_dir, name, seed, uvit_cls, model_cfg, x_shape, log_snr):
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(seed)
    model = randomize(uvit_cls(**mf.to_kwargs(model_cfg)))
    model.eval()
    x = torch.randn(*x_shape)
    time = torch.tensor(log_snr, dtype=torch.float32)
    out = model(x, time)
    sd = model.state_dict()
    mf.write_json(os.path.join(d, 'config.json'), {'model': model_cfg})
    mf.save_safetensors(os.path.join(d, 'model.safetensors'), sd)
    mf.save_npy(os.path.join(d, 'x.npy'), mf.channels_last(x))
    mf.save_npy(os.path.join(d, 'time.npy'), time.numpy())
    mf.save_npy(os.path.join(d, 'out.npy'), mf.channels_last(out))
    with open(os.path.join(d, 'param_names.txt'), 'w') as f:
        f.write(''.join(f'{n}\n' for n in sd))
    count = sum(t.numel() for t in sd.values())
    mf.write_json(os.path.join(d, 'reference.json'), {'param_count': count, 'param_tensors': len(sd)})
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    print(f'{name}: out {list(out.shape)} max|.| {out.abs().max():.4g}, {len(sd)} tensors, {count:,} parameters,'
          f' {size:,} bytes')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('ref_dir', nargs='?', default='/tmp/ref')
    ap.add_argument('--out', default=os.path.dirname(os.path.abspath(__file__)))
    args = ap.parse_args()
    mf.install_stubs()
    install_uvit_shim()
    (sd_mod,), version = mf.import_modules(args.ref_dir, 'simple_diffusion')
    print(f'reference version {version}, torch {torch.__version__}')
    torch.set_grad_enabled(False)

    basic = dict(type='simple_diffusion.UViT', dim=4, dim_mults=[1, 2], channels=1, vit_depth=2, attn_heads=2,
                 attn_dim_head=4, ff_mult=2, learned_sinusoidal_dim=8)
    case(args.out, 'uvit_basic', 21, sd_mod.UViT, basic, (2, 1, 8, 8), [-3.0, 2.5])

    # dual patchnorm, init_dim, a factor of 3 and one of 1 (no resampling)
    patched = dict(type='simple_diffusion.UViT', dim=4, init_dim=6, dim_mults=[1, 2], downsample_factor=[3, 1],
                   channels=3, vit_depth=2, vit_dropout=0.1, attn_heads=2, attn_dim_head=4, ff_mult=2,
                   learned_sinusoidal_dim=4, patch_size=2, dual_patchnorm=True)
    case(args.out, 'uvit_dual_patchnorm', 22, sd_mod.UViT, patched, (2, 3, 12, 12), [-3.0, 2.5])

    # patching by a strided conv
    strided = dict(type='simple_diffusion.UViT', dim=4, dim_mults=[2], downsample_factor=2, channels=2,
                   vit_depth=1, attn_heads=1, attn_dim_head=4, ff_mult=2, learned_sinusoidal_dim=4, patch_size=2)
    case(args.out, 'uvit_patch_conv', 23, sd_mod.UViT, strided, (1, 2, 8, 8), [0.7])


if __name__ == '__main__':
    main()
