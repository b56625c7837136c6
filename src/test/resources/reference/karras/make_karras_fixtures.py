#!/usr/bin/python3
"""Generate reference fixtures for diffusion4j's KarrasUnet (EDM2 magnitude-preserving U-Nets).

Uses karras_unet.py, karras_unet_1d.py and karras_unet_3d.py of denoising-diffusion-pytorch
2.3.1 (source tree given on the command line, default /tmp/ref) as an unmodified library, with
the stubs of ../make_fixtures.py for imports missing from Debian's torch 1.13. The einops shim of
that script is extended here with the patterns the Karras files use (including pack/unpack);
nothing from the reference is copied.

Usage:  /usr/bin/python3 make_karras_fixtures.py [REF_DIR] [--out OUT_DIR]

Writes, under OUT_DIR (default: this script's directory):
  param_names_<case>.txt   name<TAB>shape in state_dict order, for networks of several sizes
  counts.json              tensors / parameters / trainable parameters of each of them
  <fixture>/               config.json, model.safetensors, x.npy (channels-last), time.npy,
                           [x_self_cond.npy], [class_labels.npy (int64)], out.npy (model.eval())
"""

import argparse
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in the test resources

import make_fixtures as mf  # noqa: E402  (the project's stubs and writers)


# ---------------------------------------------------------------------------
# einops: the patterns of the Karras files on top of the project's shim
# ---------------------------------------------------------------------------

def _extend_einops():
    einops = sys.modules['einops']
    if getattr(einops, '__version__', None) != 'shim':
        return  # real einops is installed: nothing to add
    base_rearrange, base_repeat = einops.rearrange, einops.repeat

    def split_heads_1d_nc(t, h):                       # 'b (h c) n -> b h n c'
        b, hc, n = t.shape
        assert hc % h == 0
        return t.reshape(b, h, hc // h, n).transpose(-1, -2)

    def split_heads_any_nc(t, h):                      # 'b (h c) ... -> b h (...) c'
        b, hc = t.shape[:2]
        assert hc % h == 0
        return t.reshape(b, h, hc // h, -1).transpose(-1, -2)

    def space_major(t):                                # 'b c t x y -> (b t) c x y'
        b, c, f, x, y = t.shape
        return t.permute(0, 2, 1, 3, 4).reshape(b * f, c, x, y)

    def time_major(t):                                 # 'b c t x y -> (b x y) c t'
        b, c, f, x, y = t.shape
        return t.permute(0, 3, 4, 1, 2).reshape(b * x * y, c, f)

    def unspace(tensor, t):                            # '(b t) c n -> b c (t n)'
        bt, c, n = tensor.shape
        assert bt % t == 0
        return tensor.reshape(bt // t, t, c, n).permute(0, 2, 1, 3).reshape(bt // t, c, t * n)

    def untime(t, x, y):                               # '(b x y) c n -> b c (n x y)'
        bxy, c, n = t.shape
        assert bxy % (x * y) == 0
        b = bxy // (x * y)
        return t.reshape(b, x, y, c, n).permute(0, 3, 4, 1, 2).reshape(b, c, n * x * y)

    table = {
        'b c -> b c 1 1 1': lambda t: t.reshape(*t.shape, 1, 1, 1),
        'b c t -> b c t 1': lambda t: t.unsqueeze(-1),
        'b c t 1 -> b c t': lambda t: t.squeeze(-1),
        'b (h c) n -> b h n c': split_heads_1d_nc,
        'b (h c) ... -> b h (...) c': split_heads_any_nc,
        'b c t x y -> (b t) c x y': space_major,
        'b c t x y -> (b x y) c t': time_major,
        '(b t) c n -> b c (t n)': unspace,
        '(b x y) c n -> b c (n x y)': untime,
    }

    def rearrange(tensor, pattern, **axes):
        key = mf.norm_pattern(pattern)
        if key in table:
            return table[key](tensor, **axes)
        return base_rearrange(tensor, pattern, **axes)

    def pack(tensors, pattern):                        # only 'o *' (normalize_weight)
        assert mf.norm_pattern(pattern) == 'o *' and len(tensors) == 1, pattern
        t = tensors[0]
        return t.reshape(t.shape[0], -1), [t.shape[1:]]

    def unpack(t, ps, pattern):
        assert mf.norm_pattern(pattern) == 'o *' and len(ps) == 1, pattern
        return [t.reshape(t.shape[0], *ps[0])]

    einops.rearrange = rearrange
    einops.repeat = base_repeat
    einops.pack = pack
    einops.unpack = unpack
    mf.STUBBED.append('einops shim extended: Karras patterns, pack/unpack for "o *"')


def import_karras(ref_dir):
    (k1, k2, k3), version = mf.import_modules(ref_dir, 'karras_unet_1d', 'karras_unet', 'karras_unet_3d')
    return k1, k2, k3, version


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------



def channels_last(t):
    t = t.detach().cpu().to(torch.float32)
    perm = (0,) + tuple(range(2, t.dim())) + (1,)
    return np.ascontiguousarray(t.permute(*perm).numpy())


def randomize(model):
    """MP weights keep their randn init (their scale is irrelevant: the forward normalises them);
    gains, which start at 0 and would hide everything behind them, become nonzero."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.rsplit('.', 1)[-1]
            if leaf == 'gain':
                p.copy_(0.5 + 0.5 * torch.randn_like(p))
            elif leaf in ('weight', 'mem_kv', 'weights'):
                pass
            else:
                raise ValueError(f'unhandled parameter {name}')
    return model


def kwargs_of(cfg):
    return {k: (tuple(v) if isinstance(v, list) else v) for k, v in cfg.items() if k != 'type'}


def counts(model):
    sd = model.state_dict()
    return {
        'tensors': len(sd),
        'parameters': sum(t.numel() for t in sd.values()),
        'trainable': sum(p.numel() for p in model.parameters() if p.requires_grad),
    }


def forward_case(out_dir, name, seed, cls, cfg, x_shape, times, self_cond=False, labels=None):
    case_dir = os.path.join(out_dir, name)
    os.makedirs(case_dir, exist_ok=True)
    torch.manual_seed(seed)
    model = randomize(cls(**kwargs_of(cfg)))
    model.eval()
    x = torch.randn(*x_shape)
    time = torch.tensor(times, dtype=torch.float32)
    xsc = torch.randn(*x_shape) if self_cond else None
    cl = torch.tensor(labels, dtype=torch.long) if labels is not None else None
    with torch.no_grad():
        out = model(x, time, self_cond=xsc, class_labels=cl)
    assert out.shape == x.shape
    mf.write_json(os.path.join(case_dir, 'config.json'), {'model': cfg})
    mf.save_safetensors(os.path.join(case_dir, 'model.safetensors'), model.state_dict())
    mf.save_npy(os.path.join(case_dir, 'x.npy'), channels_last(x))
    mf.save_npy(os.path.join(case_dir, 'time.npy'), time.numpy())
    if self_cond:
        mf.save_npy(os.path.join(case_dir, 'x_self_cond.npy'), channels_last(xsc))
    if cl is not None:
        np.save(os.path.join(case_dir, 'class_labels.npy'), cl.numpy().astype(np.int64))
    mf.save_npy(os.path.join(case_dir, 'out.npy'), channels_last(out))
    return out


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------

NAME_CASES = {
    # name: (type, kwargs)
    'karras2d': ('KarrasUnet', dict(image_size=32, dim=64, dim_max=256, channels=3, num_downsamples=2,
                                    num_blocks_per_stage=2, attn_res=[8])),
    'karras2d_classes': ('KarrasUnet', dict(image_size=16, dim=16, dim_max=32, channels=1, num_downsamples=2,
                                            num_blocks_per_stage=1, attn_res=[8, 4], num_classes=10,
                                            self_condition=True, fourier_dim=8, attn_dim_head=12)),
    'karras1d': ('KarrasUnet1D', dict(seq_len=32, dim=16, dim_max=64, channels=2, num_downsamples=2,
                                      num_blocks_per_stage=1, attn_res=[8])),
    'karras3d_factorized': ('KarrasUnet3D', dict(frames=4, image_size=8, dim=8, dim_max=32, channels=3,
                                                 num_downsamples=1, num_blocks_per_stage=1, attn_res=[4],
                                                 factorize_space_time_attn=True)),
    'karras3d_joint': ('KarrasUnet3D', dict(frames=4, image_size=8, dim=8, dim_max=32, channels=3,
                                            num_downsamples=1, num_blocks_per_stage=1, attn_res=[4],
                                            factorize_space_time_attn=False)),
    'karras3d_stages': ('KarrasUnet3D', dict(frames=4, image_size=8, dim=8, dim_max=32, channels=3,
                                             num_downsamples=3, num_blocks_per_stage=[1, 2, 1],
                                             downsample_types=['image', 'frame', 'all'], attn_res=[4, 2],
                                             attn_dim_head=16, factorize_space_time_attn=True,
                                             num_classes=5)),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('ref_dir', nargs='?', default='/tmp/ref')
    ap.add_argument('--out', default=HERE)
    args = ap.parse_args()

    mf.install_stubs()
    _extend_einops()
    k1, k2, k3, version = import_karras(args.ref_dir)
    print(f'reference version {version}, torch {torch.__version__}')
    print('stubbed:', *mf.STUBBED, sep='\n  ')
    out = args.out
    os.makedirs(out, exist_ok=True)
    torch.set_grad_enabled(False)
    classes = {'KarrasUnet': k2.KarrasUnet, 'KarrasUnet1D': k1.KarrasUnet1D, 'KarrasUnet3D': k3.KarrasUnet3D}

    all_counts = {}
    for name, (typ, kw) in NAME_CASES.items():
        torch.manual_seed(0)
        model = classes[typ](**kwargs_of(kw))
        mf.write_param_names(os.path.join(out, f'param_names_{name}.txt'), model)
        c = counts(model)
        all_counts[name] = dict(config=dict(type=typ, **kw), **c)
        print(f'{name}: {c["tensors"]} tensors, {c["parameters"]:,} parameters, {c["trainable"]:,} trainable')
    mf.write_json(os.path.join(out, 'counts.json'), all_counts)

    # tiny networks whose outputs the Java side must reproduce
    cfg1 = dict(type='KarrasUnet1D', seq_len=16, dim=8, dim_max=16, channels=2, num_downsamples=2,
                num_blocks_per_stage=1, attn_res=[8], attn_dim_head=8, fourier_dim=8)
    cfg2 = dict(type='KarrasUnet', image_size=8, dim=8, dim_max=16, channels=2, num_downsamples=1,
                num_blocks_per_stage=1, attn_res=[4], attn_dim_head=6, fourier_dim=8, num_classes=3,
                self_condition=True, mp_cat_t=0.4, mp_add_emb_t=0.6, attn_res_mp_add_t=0.25)
    # (resnet_mp_add_t stays at its default: the reference accepts it but never passes it to its blocks)
    # heads x attn_dim_head must equal the channels of every attention for the reference to run
    cfg3 = dict(type='KarrasUnet3D', frames=4, image_size=8, dim=4, dim_max=8, channels=2, num_downsamples=2,
                num_blocks_per_stage=[1, 2, 1], downsample_types=['image', 'frame'], attn_res=[4],
                attn_dim_head=4, fourier_dim=8, factorize_space_time_attn=True)
    cfg4 = dict(type='KarrasUnet3D', frames=2, image_size=4, dim=4, dim_max=8, channels=1, num_downsamples=1,
                num_blocks_per_stage=1, attn_res=[2], attn_dim_head=4, fourier_dim=8, num_classes=2)

    forward_case(out, 'karras1d_tiny', 11, classes['KarrasUnet1D'], cfg1, (2, 2, 16), [0.3, -1.2])
    forward_case(out, 'karras2d_tiny', 12, classes['KarrasUnet'], cfg2, (2, 2, 8, 8), [0.7, -0.4],
                 self_cond=True, labels=[2, 0])
    forward_case(out, 'karras3d_factorized_tiny', 13, classes['KarrasUnet3D'], cfg3, (2, 2, 4, 8, 8), [0.1, 1.5])
    forward_case(out, 'karras3d_joint_tiny', 14, classes['KarrasUnet3D'], cfg4, (2, 1, 2, 4, 4), [-0.5, 0.9],
                 labels=[1, 0])

    total = 0
    ok = True
    for root, _, files in os.walk(out):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
            if f == 'out.npy':
                a = np.load(os.path.join(root, f))
                good = bool(np.isfinite(a).all() and np.abs(a).max() > 0)
                ok &= good
                print(f'{os.path.basename(root)}/out.npy: shape {list(a.shape)} std {a.std():.4f}'
                      f'{"" if good else "  <-- BAD"}')
    print(f'total size of {out}: {total:,} bytes')
    print('verification', 'OK' if ok else 'FAILED')
    if not ok:
        sys.exit(1)


if __name__ == '__main__':
    main()
