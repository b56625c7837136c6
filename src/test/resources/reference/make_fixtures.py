#!/usr/bin/python3
"""Generate numeric reference fixtures for diffusion4j.

Uses denoising-diffusion-pytorch 2.3.1 (source tree given on the command line,
default /tmp/ref) as a library.  Optional dependencies that are missing from a
Debian (torch 1.13) environment are replaced by inert stubs before the
reference modules are imported; nothing from the reference is copied here.

Usage:  /usr/bin/python3 make_fixtures.py [REF_DIR] [--out OUT_DIR]

REF_DIR is the directory that contains the `denoising_diffusion_pytorch/`
package directory.  OUT_DIR defaults to the directory of this script.
"""

import argparse
import contextlib
import enum
import importlib
import json
import math
import os
import struct
import sys
import types

import numpy as np
import torch
from torch import nn


# ---------------------------------------------------------------------------
# stubs for optional imports of the reference
# ---------------------------------------------------------------------------

def _module(name, **attrs):
    mod = types.ModuleType(name)
    for k, v in attrs.items():
        setattr(mod, k, v)
    sys.modules[name] = mod
    return mod


def _have(name):
    try:
        importlib.import_module(name)
        return True
    except ImportError:
        return False


class _Unavailable:
    """Placeholder class for training-only dependencies."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError(f'{type(self).__name__} is stubbed out in make_fixtures.py')


def norm_pattern(p):
    """An einops pattern with canonical spacing, as the shims' lookup key."""
    return ' '.join(p.replace('(', ' ( ').replace(')', ' ) ').split()).replace('( ', '(').replace(' )', ')')


def _install_einops_shim():
    """Minimal einops replacement covering exactly the patterns used by the
    2-D and 1-D modules of the reference (raises on any other pattern)."""

    def r_b_1(t):                                   # 'b -> b 1'
        return t.reshape(t.shape[0], 1)

    def r_1_d(t):                                   # 'd -> 1 d'
        return t.reshape(1, t.shape[0])

    def r_bc11(t):                                  # 'b c -> b c 1 1'
        return t.reshape(*t.shape, 1, 1)

    def r_bc1(t):                                   # 'b c -> b c 1'
        return t.reshape(*t.shape, 1)

    def r_split_heads_2d_cn(t, h):                  # 'b (h c) x y -> b h c (x y)'
        b, hc, x, y = t.shape
        assert hc % h == 0
        return t.reshape(b, h, hc // h, x * y)

    def r_merge_heads_2d_cn(t, h, x, y):            # 'b h c (x y) -> b (h c) x y'
        b, hh, c, n = t.shape
        assert hh == h and n == x * y
        return t.reshape(b, h * c, x, y)

    def r_split_heads_2d_nc(t, h):                  # 'b (h c) x y -> b h (x y) c'
        b, hc, x, y = t.shape
        assert hc % h == 0
        return t.reshape(b, h, hc // h, x * y).transpose(-1, -2)

    def r_merge_heads_2d_nd(t, x, y):               # 'b h (x y) d -> b (h d) x y'
        b, h, n, d = t.shape
        assert n == x * y
        return t.permute(0, 1, 3, 2).reshape(b, h * d, x, y)

    def r_flatten(t):                               # 'b ... -> b (...)'
        return t.reshape(t.shape[0], -1)

    def r_split_heads_1d(t, h):                     # 'b (h c) n -> b h c n'
        b, hc, n = t.shape
        assert hc % h == 0
        return t.reshape(b, h, hc // h, n)

    def r_merge_heads_1d_cn(t, h=None):             # 'b h c n -> b (h c) n'
        b, hh, c, n = t.shape
        assert h is None or hh == h
        return t.reshape(b, hh * c, n)

    def r_merge_heads_1d_nd(t):                     # 'b h n d -> b (h d) n'
        b, h, n, d = t.shape
        return t.permute(0, 1, 3, 2).reshape(b, h * d, n)

    def r_space_to_depth(t, p1, p2):                # 'b c (h p1) (w p2) -> b (c p1 p2) h w'
        b, c, hh, ww = t.shape
        assert hh % p1 == 0 and ww % p2 == 0
        t = t.reshape(b, c, hh // p1, p1, ww // p2, p2)
        return t.permute(0, 1, 3, 5, 2, 4).reshape(b, c * p1 * p2, hh // p1, ww // p2)

    table = {
        'b -> b 1': r_b_1,
        'b -> b 1 1 1': lambda t: t.reshape(t.shape[0], 1, 1, 1),
        'd -> 1 d': r_1_d,
        'b c -> b c 1 1': r_bc11,
        'b c -> b c 1': r_bc1,
        'b (h c) x y -> b h c (x y)': r_split_heads_2d_cn,
        'b h c (x y) -> b (h c) x y': r_merge_heads_2d_cn,
        'b (h c) x y -> b h (x y) c': r_split_heads_2d_nc,
        'b h (x y) d -> b (h d) x y': r_merge_heads_2d_nd,
        'b ... -> b (...)': r_flatten,
        'b (h c) n -> b h c n': r_split_heads_1d,
        'b h c n -> b (h c) n': r_merge_heads_1d_cn,
        'b h n d -> b (h d) n': r_merge_heads_1d_nd,
        'b c (h p1) (w p2) -> b (c p1 p2) h w': r_space_to_depth,
    }

    def rearrange(t, pattern, **axes):
        key = norm_pattern(pattern)
        if key not in table:
            raise NotImplementedError(f'einops shim: unsupported rearrange pattern {pattern!r}')
        return table[key](t, **axes)

    def repeat(t, pattern, **axes):
        key = norm_pattern(pattern)
        if key in ('h c n -> b h c n', 'h n d -> b h n d'):
            b = axes['b']
            return t.unsqueeze(0).expand(b, *t.shape).contiguous()
        raise NotImplementedError(f'einops shim: unsupported repeat pattern {pattern!r}')

    def reduce(t, pattern, reduction, **axes):
        key = norm_pattern(pattern)
        if key == 'b ... -> b' and reduction == 'mean':
            return t.reshape(t.shape[0], -1).mean(dim=-1)
        raise NotImplementedError(f'einops shim: unsupported reduce {pattern!r} / {reduction!r}')

    class Rearrange(nn.Module):
        def __init__(self, pattern, **axes):
            super().__init__()
            self.pattern = pattern
            self.axes = axes

        def forward(self, x):
            return rearrange(x, self.pattern, **self.axes)

    einops = _module('einops', rearrange=rearrange, repeat=repeat, reduce=reduce, __version__='shim')
    layers = _module('einops.layers')
    layers_torch = _module('einops.layers.torch', Rearrange=Rearrange)
    einops.layers = layers
    layers.torch = layers_torch


STUBBED = []


def install_stubs():
    # torch.nn.attention (torch >= 2.2) -- only SDPBackend names are touched
    # when flash attention is off.
    try:
        importlib.import_module('torch.nn.attention')
    except ImportError:
        class SDPBackend(enum.Enum):
            ERROR = -1
            MATH = 0
            FLASH_ATTENTION = 1
            EFFICIENT_ATTENTION = 2

        @contextlib.contextmanager
        def sdpa_kernel(*args, **kwargs):
            yield

        attn_mod = _module('torch.nn.attention', SDPBackend=SDPBackend, sdpa_kernel=sdpa_kernel)
        torch.nn.attention = attn_mod
        STUBBED.append('torch.nn.attention (SDPBackend enum, no-op sdpa_kernel)')

    if not _have('einops'):
        _install_einops_shim()
        STUBBED.append('einops (shim: rearrange/repeat/reduce/layers.torch.Rearrange for the used patterns)')

    if not _have('torchvision'):
        tv = _module('torchvision')
        tv.transforms = _module('torchvision.transforms')
        tv.utils = _module('torchvision.utils')
        STUBBED.append('torchvision (empty transforms/utils)')

    if not _have('scipy.optimize'):
        def linear_sum_assignment(*args, **kwargs):
            raise RuntimeError('scipy is stubbed out (immiscible diffusion not supported here)')
        scipy = _module('scipy')
        scipy.optimize = _module('scipy.optimize', linear_sum_assignment=linear_sum_assignment)
        STUBBED.append('scipy.optimize.linear_sum_assignment (raises)')

    if not _have('PIL'):
        pil = _module('PIL')
        pil.Image = _module('PIL.Image')
        STUBBED.append('PIL.Image (empty)')

    if not _have('tqdm.auto'):
        def tqdm(iterable=None, *args, **kwargs):
            return iterable
        tq = _module('tqdm', tqdm=tqdm)
        tq.auto = _module('tqdm.auto', tqdm=tqdm)
        STUBBED.append('tqdm.auto.tqdm (identity)')

    if not _have('ema_pytorch'):
        _module('ema_pytorch', EMA=type('EMA', (_Unavailable,), {}))
        STUBBED.append('ema_pytorch.EMA (unusable placeholder)')

    if not _have('accelerate'):
        _module('accelerate', Accelerator=type('Accelerator', (_Unavailable,), {}))
        STUBBED.append('accelerate.Accelerator (unusable placeholder)')

    if not _have('packaging.version'):
        raise SystemExit('python3-packaging is required (used by attend.py)')


def import_modules(ref_dir, *names):
    """The reference's sub-modules `names` and its version. The package is registered without
    executing its __init__ (which pulls in many unrelated sub-modules)."""
    pkg_dir = os.path.join(ref_dir, 'denoising_diffusion_pytorch')
    if not os.path.isdir(pkg_dir):
        raise SystemExit(f'no denoising_diffusion_pytorch package under {ref_dir}')
    pkg = types.ModuleType('denoising_diffusion_pytorch')
    pkg.__path__ = [pkg_dir]
    sys.modules['denoising_diffusion_pytorch'] = pkg
    modules = [importlib.import_module('denoising_diffusion_pytorch.' + n) for n in names]
    ver = importlib.import_module('denoising_diffusion_pytorch.version')
    return modules, ver.__version__


def import_reference(ref_dir):
    (ddp, ddp1), version = import_modules(ref_dir, 'denoising_diffusion_pytorch', 'denoising_diffusion_pytorch_1d')
    return ddp, ddp1, version


# ---------------------------------------------------------------------------
# writers
# ---------------------------------------------------------------------------

def save_safetensors(path, state_dict):
    """F32 safetensors in state_dict order; 0-dimensional tensors keep shape [] (np.ascontiguousarray
    would make them [1])."""
    header = {}
    blobs = []
    offset = 0
    for name, t in state_dict.items():
        arr = t.detach().cpu().to(torch.float32).contiguous().numpy().astype('<f4')
        data = arr.tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    hjson = json.dumps(header, separators=(',', ':')).encode('utf-8')
    hjson += b' ' * ((8 - len(hjson) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def channels_last(t):
    t = t.detach().cpu().to(torch.float32)
    if t.dim() == 4:
        t = t.permute(0, 2, 3, 1)
    elif t.dim() == 3:
        t = t.permute(0, 2, 1)
    else:
        raise ValueError(f'unexpected rank {t.dim()}')
    return np.ascontiguousarray(t.numpy())


def save_npy(path, arr):
    np.save(path, np.asarray(arr, dtype=np.float32))


def write_json(path, obj):
    with open(path, 'w') as f:
        json.dump(obj, f, indent=2)
        f.write('\n')


# ---------------------------------------------------------------------------
# model helpers
# ---------------------------------------------------------------------------

def randomize(model):
    """Keep default conv/linear weight init; make every other parameter
    non-trivial so that it matters in a comparison."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            leaf = name.rsplit('.', 1)[-1]
            if leaf == 'g':                      # RMSNorm gains
                p.copy_(1 + 0.1 * torch.randn_like(p))
            elif leaf == 'bias':
                p.copy_(0.1 * torch.randn_like(p))
            elif leaf in ('mem_kv', 'weights'):  # memory kv / fourier freqs
                p.copy_(torch.randn_like(p))
            elif leaf == 'weight':
                pass                             # default (kaiming-uniform) init
            else:
                raise ValueError(f'unhandled parameter {name}')
    return model


def to_kwargs(cfg):
    """JSON config (lists) -> constructor kwargs (tuples where needed)."""
    return {k: (tuple(v) if isinstance(v, list) else v) for k, v in cfg.items() if k != 'type'}


def forward_case(out_dir, name, seed, cls, model_cfg, x_shape, times, self_cond=False):
    case_dir = os.path.join(out_dir, name)
    os.makedirs(case_dir, exist_ok=True)
    torch.manual_seed(seed)
    model = randomize(cls(**to_kwargs(model_cfg)))
    model.eval()
    x = torch.randn(*x_shape)
    time = torch.tensor(times, dtype=torch.float32)
    xsc = torch.randn(*x_shape) if self_cond else None
    with torch.no_grad():
        out = model(x, time, xsc)
    write_json(os.path.join(case_dir, 'config.json'), {'model': model_cfg})
    save_safetensors(os.path.join(case_dir, 'model.safetensors'), model.state_dict())
    save_npy(os.path.join(case_dir, 'x.npy'), channels_last(x))
    save_npy(os.path.join(case_dir, 'time.npy'), time.numpy())
    if self_cond:
        save_npy(os.path.join(case_dir, 'x_self_cond.npy'), channels_last(xsc))
    save_npy(os.path.join(case_dir, 'out.npy'), channels_last(out))
    return model


@contextlib.contextmanager
def forced_initial_noise(fixed):
    """Make the single torch.randn(shape) call of a sampler return `fixed`."""
    real = torch.randn
    calls = []

    def fake(*args, **kwargs):
        shape = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list, torch.Size)) else args
        if tuple(shape) == tuple(fixed.shape):
            calls.append(1)
            return fixed.clone().to(kwargs.get('device') or fixed.device)
        return real(*args, **kwargs)

    torch.randn = fake
    try:
        yield calls
    finally:
        torch.randn = real


def ddim_time_pairs(total, steps):
    # same construction as the reference samplers (recorded for the Java side)
    times = torch.linspace(-1, total - 1, steps=steps + 1)
    times = list(reversed(times.int().tolist()))
    return [list(p) for p in zip(times[:-1], times[1:])]


def diffusion_case(out_dir, name, base_model, diff_cls, model_cfg, diff_cfg, sample_shape, loss_times,
                   seed, rederive=False):
    case_dir = os.path.join(out_dir, name)
    os.makedirs(case_dir, exist_ok=True)
    torch.manual_seed(seed)
    diffusion = diff_cls(base_model, **to_kwargs(diff_cfg))
    diffusion.eval()

    noise = torch.randn(*sample_shape)
    with forced_initial_noise(noise) as calls:
        ddim = diffusion.ddim_sample(tuple(sample_shape))
    assert len(calls) == 1, 'initial noise was not drawn exactly once'

    results = {'ddim': ddim}
    if rederive:
        original = diffusion.model_predictions

        def rederiving(*args, **kwargs):
            kwargs['rederive_pred_noise'] = True
            return original(*args, **kwargs)

        diffusion.model_predictions = rederiving
        with forced_initial_noise(noise) as calls:
            results['ddim_rederived'] = diffusion.ddim_sample(tuple(sample_shape))
        assert len(calls) == 1
        del diffusion.model_predictions

    x0 = torch.rand(*sample_shape) * 2 - 1
    loss_noise = torch.randn(*sample_shape)
    t = torch.tensor(loss_times, dtype=torch.long)
    with torch.no_grad():
        loss = diffusion.p_losses(x0, t, loss_noise.clone())
        loss_per = diffusion.p_losses(x0, t, loss_noise.clone(), loss_reduction='none')

    write_json(os.path.join(case_dir, 'config.json'), {'model': model_cfg, 'diffusion': diff_cfg})
    save_safetensors(os.path.join(case_dir, 'model.safetensors'), base_model.state_dict())
    save_npy(os.path.join(case_dir, 'noise.npy'), channels_last(noise))
    for k, v in results.items():
        save_npy(os.path.join(case_dir, f'{k}.npy'), channels_last(v))
    save_npy(os.path.join(case_dir, 'x0.npy'), channels_last(x0))
    save_npy(os.path.join(case_dir, 'loss_noise.npy'), channels_last(loss_noise))
    write_json(os.path.join(case_dir, 'loss.json'), {
        'times': list(loss_times),
        'loss': float(loss),
        'loss_per_sample': [float(v) for v in loss_per],
    })
    write_json(os.path.join(case_dir, 'ddim_times.json'), {
        'eta': diffusion.ddim_sampling_eta,
        'time_pairs': ddim_time_pairs(diffusion.num_timesteps, diffusion.sampling_timesteps),
        'output_unnormalized_to_0_1': True,
    })
    return results


def write_param_names(path, model):
    lines = []
    total = 0
    sd = model.state_dict()
    for name, t in sd.items():
        lines.append(f"{name}\t{','.join(str(d) for d in t.shape)}")
        total += t.numel()
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return len(sd), total


def f64list(t):
    return [float(v) for v in t.to(torch.float64).tolist()]


def f32list(t):
    return [float(np.float32(v)) for v in t.detach().cpu().to(torch.float32).numpy()]


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('ref_dir', nargs='?', default='/tmp/ref')
    ap.add_argument('--out', default=os.path.dirname(os.path.abspath(__file__)))
    args = ap.parse_args()

    install_stubs()
    ddp, ddp1, version = import_reference(args.ref_dir)
    print(f'reference version {version}, torch {torch.__version__}')
    print('stubbed:', *STUBBED, sep='\n  ')
    out = args.out
    os.makedirs(out, exist_ok=True)
    torch.set_grad_enabled(False)

    Unet, Unet1D = ddp.Unet, ddp1.Unet1D
    GaussianDiffusion, GaussianDiffusion1D = ddp.GaussianDiffusion, ddp1.GaussianDiffusion1D

    cfg1 = dict(type='Unet', dim=8, dim_mults=[1, 2], channels=3, attn_heads=2, attn_dim_head=8)
    cfg2 = dict(type='Unet', dim=8, init_dim=12, dim_mults=[1, 2, 2], channels=1, self_condition=True,
                learned_variance=True, learned_sinusoidal_cond=True, learned_sinusoidal_dim=8,
                full_attn=[False, True, True], attn_heads=[1, 2, 2], attn_dim_head=[4, 8, 8])
    cfg3 = dict(type='Unet', dim=8, dim_mults=[1, 2], channels=2, random_fourier_features=True, out_dim=3,
                sinusoidal_pos_emb_theta=1000, flash_attn=False)
    cfg4 = dict(type='Unet1D', dim=8, dim_mults=[1, 2], channels=2, attn_heads=2, attn_dim_head=8)
    cfg5 = dict(type='Unet1D', dim=8, init_dim=6, dim_mults=[1, 2, 2], channels=1, self_condition=True,
                learned_variance=True, learned_sinusoidal_cond=True, learned_sinusoidal_dim=8,
                sinusoidal_pos_emb_theta=100)

    m1 = forward_case(out, 'unet2d_basic', 1, Unet, cfg1, (2, 3, 8, 12), [3., 517.])
    forward_case(out, 'unet2d_options', 2, Unet, cfg2, (2, 1, 8, 8), [0.25, 0.9], self_cond=True)
    forward_case(out, 'unet2d_fourier', 3, Unet, cfg3, (1, 2, 4, 4), [0.5])
    m4 = forward_case(out, 'unet1d_basic', 4, Unet1D, cfg4, (2, 2, 16), [7., 600.])
    forward_case(out, 'unet1d_options', 5, Unet1D, cfg5, (2, 1, 16), [0.1, 0.7], self_cond=True)

    dcfg6 = dict(type='GaussianDiffusion', image_size=[8, 12], timesteps=100, sampling_timesteps=5,
                 objective='pred_v', beta_schedule='sigmoid')
    diffusion_case(out, 'gaussian2d_ddim', m1, GaussianDiffusion, cfg1, dcfg6, (2, 3, 8, 12), [10, 90], 6)

    dcfg7 = dict(type='GaussianDiffusion1D', seq_length=16, timesteps=100, sampling_timesteps=5,
                 objective='pred_noise', beta_schedule='cosine')
    r7 = diffusion_case(out, 'gaussian1d_ddim', m4, GaussianDiffusion1D, cfg4, dcfg7, (2, 2, 16), [5, 77], 7,
                        rederive=True)
    print(f"gaussian1d_ddim: max |ddim - ddim_rederived| = "
          f"{(r7['ddim'] - r7['ddim_rederived']).abs().max().item():.6g}")

    # parameter name listings for the default-size networks
    torch.manual_seed(0)
    n2, p2 = write_param_names(os.path.join(out, 'param_names_unet2d.txt'),
                               Unet(dim=32, dim_mults=(1, 2, 4), channels=3))
    n1, p1 = write_param_names(os.path.join(out, 'param_names_unet1d.txt'),
                               Unet1D(dim=32, dim_mults=(1, 2, 4), channels=2))
    print(f'Unet(dim=32,(1,2,4),3): {n2} tensors, {p2:,} parameters (expected 193, 2,610,883)')
    print(f'Unet1D(dim=32,(1,2,4),2): {n1} tensors, {p1:,} parameters (expected 188, 1,272,514)')

    # schedules and diffusion buffers
    sched = {
        'timesteps': 10,
        'betas': {
            'linear': f64list(ddp.linear_beta_schedule(10)),
            'cosine': f64list(ddp.cosine_beta_schedule(10, s=0.008)),
            'sigmoid': f64list(ddp.sigmoid_beta_schedule(10, start=-3, end=3, tau=1)),
            'sigmoid_start-2_end2_tau0.5': f64list(ddp.sigmoid_beta_schedule(10, start=-2, end=2, tau=0.5)),
        },
        'diffusion_buffers': [],
    }
    small = Unet(dim=8, dim_mults=(1, 2), channels=3)
    for dkw in (dict(timesteps=10, objective='pred_v', beta_schedule='sigmoid'),
                dict(timesteps=10, objective='pred_noise', beta_schedule='cosine',
                     min_snr_loss_weight=True, min_snr_gamma=5),
                dict(timesteps=10, objective='pred_x0', beta_schedule='linear')):
        gd = GaussianDiffusion(small, image_size=8, **dkw)
        entry = {'config': dkw}
        for bname, buf in gd.named_buffers():
            if not bname.startswith('model.'):
                entry[bname] = f32list(buf)
        sched['diffusion_buffers'].append(entry)
    write_json(os.path.join(out, 'schedules.json'), sched)

    # verification
    ok = True
    for case in ('unet2d_basic', 'unet2d_options', 'unet2d_fourier', 'unet1d_basic', 'unet1d_options',
                 'gaussian2d_ddim', 'gaussian1d_ddim'):
        d = os.path.join(out, case)
        with open(os.path.join(d, 'config.json')) as f:
            json.load(f)
        for fname in sorted(os.listdir(d)):
            if fname.endswith('.npy'):
                a = np.load(os.path.join(d, fname))
                good = a.dtype == np.float32 and np.isfinite(a).all() and np.abs(a).max() > 0
                ok &= bool(good)
                if fname in ('out.npy', 'ddim.npy', 'ddim_rederived.npy') or not good:
                    print(f'{case}/{fname}: shape {list(a.shape)} max|.| {np.abs(a).max():.6g}'
                          f'{"" if good else "  <-- BAD"}')
    print('verification', 'OK' if ok else 'FAILED')
    if not ok:
        sys.exit(1)


if __name__ == '__main__':
    main()
