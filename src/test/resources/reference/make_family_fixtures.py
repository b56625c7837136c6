#!/usr/bin/python3
"""Fixtures for the rest of the reference's diffusion family: the continuous-time diffusions
(ContinuousTimeGaussianDiffusion with its three schedules, VParamContinuousTimeGaussianDiffusion,
simple_diffusion.GaussianDiffusion), LearnedGaussianDiffusion, WeightedObjectiveGaussianDiffusion
and XMWrapper.

Usage:  /usr/bin/python3 make_family_fixtures.py [REF_DIR] [--out OUT_DIR]

Shares make_fixtures.py's stand-ins, writers and helpers (see README.md). Each case seeds
torch.manual_seed(k) before building its model.
"""

import argparse
import functools
import os
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

import make_fixtures as mf


def install_einops_patterns():
    """The few einops patterns these modules add to make_fixtures' shim."""
    einops = mf.sys.modules['einops']
    if getattr(einops, '__version__', '') != 'shim':
        return
    rearrange, repeat, reduce = einops.rearrange, einops.repeat, einops.reduce

    def rearrange2(t, pattern, **axes):
        key = mf.norm_pattern(pattern)
        if key == '... -> ... 1':
            return t.unsqueeze(-1)
        if key == '... 1 -> ...':
            return t.squeeze(-1)
        if key == '-> 1 1':
            return t.reshape(1, 1)
        return rearrange(t, pattern, **axes)

    def repeat2(t, pattern, **axes):
        key = mf.norm_pattern(pattern)
        if key == '-> b':
            return t.expand(axes['b']).clone()
        if key == 'b ... -> (b k) ...':
            return t.repeat_interleave(axes['k'], dim=0)
        return repeat(t, pattern, **axes)

    def reduce2(t, pattern, reduction, **axes):
        key = mf.norm_pattern(pattern)
        if key == '(b k) ... -> b k' and reduction == 'mean':
            return t.reshape(axes['b'], axes['k'], -1).mean(dim=-1)
        return reduce(t, pattern, reduction, **axes)

    class Rearrange(nn.Module):
        def __init__(self, pattern, **axes):
            super().__init__()
            self.pattern, self.axes = pattern, axes

        def forward(self, x):
            return rearrange2(x, self.pattern, **self.axes)

    def unused(*args, **kwargs):
        raise NotImplementedError('einops shim: pack/unpack (UViT only) are not needed here')

    einops.rearrange, einops.repeat, einops.reduce = rearrange2, repeat2, reduce2
    for name in ('pack', 'unpack'):
        if not hasattr(einops, name):
            setattr(einops, name, unused)
    mf.sys.modules['einops.layers.torch'].Rearrange = Rearrange


@contextmanager
def no_step_noise(initial):
    """The sampler's start is `initial`; every later draw (the ancestral steps' noise) is zero."""
    real_randn_like = torch.randn_like
    torch.randn_like = lambda t, *a, **k: torch.zeros_like(t)
    try:
        with mf.forced_initial_noise(initial) as calls:
            yield calls
    finally:
        torch.randn_like = real_randn_like


UNET_CONTINUOUS = dict(type='Unet', dim=8, dim_mults=[1, 2], channels=1, learned_sinusoidal_cond=True,
                       learned_sinusoidal_dim=8, attn_heads=2, attn_dim_head=8)
UNET_DISCRETE = dict(type='Unet', dim=8, dim_mults=[1, 2], channels=1, attn_heads=2, attn_dim_head=8)


def save_common(case, model_cfg, diff_cfg, state_dict, extra_json=None):
    os.makedirs(case, exist_ok=True)
    cfg = {'model': model_cfg, 'diffusion': diff_cfg}
    cfg.update(extra_json or {})
    mf.write_json(os.path.join(case, 'config.json'), cfg)
    mf.save_safetensors(os.path.join(case, 'model.safetensors'), state_dict)


def continuous_cases(out, ct_mod, vp_mod, simple_mod):
    cases = [
        ('ct_linear', ct_mod.ContinuousTimeGaussianDiffusion, 'ContinuousTimeGaussianDiffusion',
         dict(noise_schedule='linear')),
        ('ct_cosine_minsnr_noclip', ct_mod.ContinuousTimeGaussianDiffusion, 'ContinuousTimeGaussianDiffusion',
         dict(noise_schedule='cosine', min_snr_loss_weight=True, min_snr_gamma=2., clip_sample_denoised=False)),
        ('ct_learned', ct_mod.ContinuousTimeGaussianDiffusion, 'ContinuousTimeGaussianDiffusion',
         dict(noise_schedule='learned', learned_schedule_net_hidden_dim=8, learned_noise_schedule_frac_gradient=0.5)),
        ('vparam', vp_mod.VParamContinuousTimeGaussianDiffusion, 'VParamContinuousTimeGaussianDiffusion', dict()),
        ('simple_v_shifted', simple_mod.GaussianDiffusion, 'simple_diffusion.GaussianDiffusion',
         dict(pred_objective='v', noise_d=4)),
        ('simple_eps_interpolated', simple_mod.GaussianDiffusion, 'simple_diffusion.GaussianDiffusion',
         dict(pred_objective='eps', noise_d_low=2, noise_d_high=16, min_snr_loss_weight=False)),
    ]
    for seed, (name, cls, type_name, opts) in enumerate(cases, start=21):
        torch.manual_seed(seed)
        net = mf.randomize(mf.ddp.Unet(**mf.to_kwargs(UNET_CONTINUOUS)))
        net.eval()
        diff_cfg = dict(type=type_name, image_size=8, channels=1, num_sample_steps=5, **opts)
        d = cls(net, **mf.to_kwargs(diff_cfg))
        if name == 'ct_learned':
            with torch.no_grad():   # away from the initial near-linear shape
                for p in d.log_snr.parameters():
                    p.copy_(torch.randn_like(p))
        d.eval()
        x0 = torch.rand(3, 1, 8, 8) * 2 - 1
        noise = torch.randn(3, 1, 8, 8)
        times = torch.tensor([0.05, 0.5, 0.97])
        losses = d.p_losses(x0, times, noise=noise.clone(), loss_reduction='none')
        log_snr = d.log_snr(times)
        ends = d.log_snr(torch.tensor([0., 1.]))
        # the denoised estimate at one time for the whole batch, as p_mean_variance computes it
        t_denoise = torch.tensor(0.3)
        lsnr = d.log_snr(t_denoise)
        alpha, sigma = lsnr.sigmoid().sqrt(), (-lsnr).sigmoid().sqrt()
        x_t = alpha * x0 + sigma * noise
        pred = d.model(x_t, lsnr.expand(3))
        v = type_name == 'VParamContinuousTimeGaussianDiffusion' or opts.get('pred_objective', 'eps') == 'v'
        x_start = alpha * x_t - sigma * pred if v else (x_t - sigma * pred) / alpha
        if opts.get('clip_sample_denoised', True):
            x_start = x_start.clamp(-1., 1.)
        start = torch.randn(2, 1, 8, 8)
        with no_step_noise(start) as calls:
            sampled = d.p_sample_loop((2, 1, 8, 8))
        assert len(calls) == 1
        case = os.path.join(out, name)
        state = dict(net.state_dict())
        if name == 'ct_learned':
            state.update({'log_snr.' + k: v for k, v in d.log_snr.state_dict().items()})
        save_common(case, UNET_CONTINUOUS, diff_cfg, state)
        for k, arr in {'x0': x0, 'noise': noise, 'x_t': x_t, 'x_start': x_start, 'start': start,
                       'sample_no_step_noise': sampled}.items():
            mf.save_npy(os.path.join(case, f'{k}.npy'), mf.channels_last(arr))
        mf.write_json(os.path.join(case, 'values.json'), {
            'times': mf.f32list(times), 'losses': mf.f32list(losses), 'log_snr': mf.f32list(log_snr),
            'log_snr_ends': mf.f32list(ends), 'denoise_time': float(t_denoise), 'denoise_log_snr': float(lsnr)})
        print(f'{name}: losses {losses.tolist()} log_snr {log_snr.tolist()} sample mean {sampled.mean():.4f}')


def learned_case(out, learned_mod):
    # the module uses partial and identity without importing them (its DDIM raises NameError)
    learned_mod.partial, learned_mod.identity = functools.partial, (lambda t: t)
    model_cfg = dict(UNET_DISCRETE, learned_variance=True)
    diff_cfg = dict(type='LearnedGaussianDiffusion', image_size=8, timesteps=20, sampling_timesteps=4,
                    objective='pred_noise', beta_schedule='cosine', vb_loss_weight=0.5)
    torch.manual_seed(31)
    net = mf.randomize(mf.ddp.Unet(**mf.to_kwargs(model_cfg)))
    net.eval()
    d = learned_mod.LearnedGaussianDiffusion(net, **mf.to_kwargs(diff_cfg))
    d.eval()
    x0 = torch.rand(3, 1, 8, 8) * 2 - 1
    noise = torch.randn(3, 1, 8, 8)
    t = torch.tensor([0, 7, 19])
    losses = d.p_losses(x0, t, noise=noise.clone(), loss_reduction='none')
    x_t = d.q_sample(x0, t, noise)
    mean, variance, log_variance, x_start = d.p_mean_variance(x=x_t, t=t, clip_denoised=True)
    start = torch.randn(2, 1, 8, 8)
    with mf.forced_initial_noise(start) as calls:
        ddim = d.ddim_sample((2, 1, 8, 8))
    assert len(calls) == 1
    # its model_predictions ignores rederive_pred_noise, which ddim_sample asks for: the same run with the
    # noise re-derived from the clamped x0, as the parent's model_predictions does
    original = d.model_predictions

    def rederived(x, t, x_self_cond=None, clip_x_start=False, rederive_pred_noise=False):
        pred = original(x, t, x_self_cond, clip_x_start)
        if clip_x_start and rederive_pred_noise:
            pred = learned_mod.ModelPrediction(d.predict_noise_from_start(x, t, pred.pred_x_start), pred.pred_x_start,
                                               pred.pred_variance)
        return pred

    d.model_predictions = rederived
    with mf.forced_initial_noise(start) as calls:
        ddim_rederived = d.ddim_sample((2, 1, 8, 8))
    assert len(calls) == 1
    d.model_predictions = original
    with no_step_noise(start) as calls:
        ddpm = d.p_sample_loop((2, 1, 8, 8))
    assert len(calls) == 1
    case = os.path.join(out, 'learned_gaussian')
    save_common(case, model_cfg, diff_cfg, net.state_dict())
    for k, arr in {'x0': x0, 'noise': noise, 'x_t': x_t, 'model_mean': mean, 'model_log_variance': log_variance,
                   'start': start, 'ddim': ddim, 'ddim_rederived': ddim_rederived,
                   'ddpm_no_step_noise': ddpm}.items():
        mf.save_npy(os.path.join(case, f'{k}.npy'), mf.channels_last(arr))
    mf.write_json(os.path.join(case, 'values.json'), {'times': t.tolist(), 'losses': mf.f32list(losses)})
    print(f'learned: losses {losses.tolist()} ddim mean {ddim.mean():.4f}')


def weighted_case(out, weighted_mod):
    model_cfg = dict(UNET_DISCRETE, out_dim=4)
    diff_cfg = dict(type='WeightedObjectiveGaussianDiffusion', image_size=8, timesteps=20, objective='pred_noise',
                    beta_schedule='cosine', pred_noise_loss_weight=0.3, pred_x_start_loss_weight=0.2)
    torch.manual_seed(41)
    net = mf.randomize(mf.ddp.Unet(**mf.to_kwargs(model_cfg)))
    net.eval()
    d = weighted_mod.WeightedObjectiveGaussianDiffusion(net, **mf.to_kwargs(diff_cfg))
    d.eval()
    x0 = torch.rand(3, 1, 8, 8) * 2 - 1
    noise = torch.randn(3, 1, 8, 8)
    t = torch.tensor([0, 7, 19])
    losses = d.p_losses(x0, t, noise=noise.clone(), loss_reduction='none')
    x_t = d.q_sample(x0, t, noise)
    # its p_sample cannot call this (it passes x_self_cond and unpacks four values): called directly
    mean, _, _ = d.p_mean_variance(x=x_t, t=t, clip_denoised=True)
    case = os.path.join(out, 'weighted_objective')
    save_common(case, model_cfg, diff_cfg, net.state_dict())
    for k, arr in {'x0': x0, 'noise': noise, 'x_t': x_t, 'model_mean': mean}.items():
        mf.save_npy(os.path.join(case, f'{k}.npy'), mf.channels_last(arr))
    mf.write_json(os.path.join(case, 'values.json'), {'times': t.tolist(), 'losses': mf.f32list(losses)})
    print(f'weighted: losses {losses.tolist()}')


def xm_case(out, xm_mod):
    diff_cfg = dict(type='GaussianDiffusion', image_size=8, timesteps=20, objective='pred_v', beta_schedule='cosine')
    wrapper = dict(type='XMWrapper', candidates=3, max_batch_size=4)
    torch.manual_seed(51)
    net = mf.randomize(mf.ddp.Unet(**mf.to_kwargs(UNET_DISCRETE)))
    net.eval()
    d = mf.ddp.GaussianDiffusion(net, **mf.to_kwargs(diff_cfg))
    xm = xm_mod.XMWrapper(d, candidates=3, max_batch_size=4)
    images = torch.rand(2, 1, 8, 8)
    t = torch.tensor([3, 15])
    noise = torch.randn(6, 1, 8, 8)    # (b k): the candidates of each example together
    loss = xm(images, times=t, noise=noise.clone())
    candidate_losses = d(images.repeat_interleave(3, dim=0), times=t.repeat_interleave(3), noise=noise.clone(),
                         loss_reduction='none')
    case = os.path.join(out, 'xm_wrapper')
    save_common(case, UNET_DISCRETE, diff_cfg, net.state_dict(), {'wrapper': wrapper})
    for k, arr in {'images': images, 'noise': noise}.items():
        mf.save_npy(os.path.join(case, f'{k}.npy'), mf.channels_last(arr))
    mf.write_json(os.path.join(case, 'values.json'), {'times': t.tolist(), 'loss': float(loss),
                                                      'candidate_losses': mf.f32list(candidate_losses)})
    print(f'xm: loss {float(loss):.6f} candidates {candidate_losses.tolist()}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('ref_dir', nargs='?', default='/tmp/ref')
    ap.add_argument('--out', default=os.path.dirname(os.path.abspath(__file__)))
    args = ap.parse_args()
    mf.install_stubs()
    install_einops_patterns()
    (ddp, ct_mod, vp_mod, simple_mod, learned_mod, weighted_mod, xm_mod), version = mf.import_modules(
        args.ref_dir, 'denoising_diffusion_pytorch', 'continuous_time_gaussian_diffusion',
        'v_param_continuous_time_gaussian_diffusion', 'simple_diffusion', 'learned_gaussian_diffusion',
        'weighted_objective_gaussian_diffusion', 'xm')
    mf.ddp = ddp
    print(f'reference version {version}, torch {torch.__version__}')
    torch.set_grad_enabled(False)
    continuous_cases(args.out, ct_mod, vp_mod, simple_mod)
    learned_case(args.out, learned_mod)
    weighted_case(args.out, weighted_mod)
    xm_case(args.out, xm_mod)


if __name__ == '__main__':
    main()
