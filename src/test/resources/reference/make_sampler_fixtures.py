#!/usr/bin/python3
"""Fixtures for the reference's own samplers that the other scripts leave out: ElucidatedDiffusion's
sample (Heun, Algorithm 2) and sample_using_dpmpp (DPM-Solver++(2M), whose denoiser is not clamped),
and GaussianDiffusion's DDPM (p_sample_loop).

Usage:  /usr/bin/python3 make_sampler_fixtures.py [REF_DIR] [--out OUT_DIR]

Shares make_fixtures.py's stand-ins, writers and helpers (see README.md). Each case seeds
torch.manual_seed(k) before building its model.
"""

import argparse
import os

import torch

import make_fixtures as mf
import make_family_fixtures as ff

UNET_CONTINUOUS = dict(type='Unet', dim=8, dim_mults=[1, 2], channels=3, learned_sinusoidal_cond=True,
                       learned_sinusoidal_dim=8, attn_heads=2, attn_dim_head=8)
UNET_DISCRETE = dict(type='Unet', dim=8, dim_mults=[1, 2], channels=1, attn_heads=2, attn_dim_head=8)


def edm_case(out, edm_mod):
    # S_churn 0: sample() then adds no noise (its eps is scaled by sqrt(sigma_hat^2 - sigma^2) = 0)
    diff_cfg = dict(type='ElucidatedDiffusion', image_size=8, channels=3, num_sample_steps=5, S_churn=0.)
    torch.manual_seed(61)
    net = mf.randomize(mf.ddp.Unet(**mf.to_kwargs(UNET_CONTINUOUS)))
    with torch.no_grad():   # an output large enough that D leaves [-1, 1], where clamping matters
        for p in net.final_conv.parameters():
            p.mul_(4)
    net.eval()
    d = edm_mod.ElucidatedDiffusion(net, **mf.to_kwargs(diff_cfg))
    d.eval()
    noise = torch.randn(2, 3, 8, 8)
    with mf.forced_initial_noise(noise) as calls:
        heun = d.sample(batch_size=2)
    assert len(calls) == 6, calls     # the start and one eps per step, all scaled to zero but the start
    with mf.forced_initial_noise(noise) as calls:
        dpmpp = d.sample_using_dpmpp(batch_size=2)
    assert len(calls) == 1
    # the same run with the denoiser clamped, as diffusion4j's dpmpp_2m once did for every model
    forward = d.preconditioned_network_forward
    d.preconditioned_network_forward = lambda *a, **k: forward(*a, **{**k, 'clamp': True})
    with mf.forced_initial_noise(noise):
        dpmpp_clamped = d.sample_using_dpmpp(batch_size=2)
    d.preconditioned_network_forward = forward
    case = os.path.join(out, 'edm_samplers')
    ff.save_common(case, UNET_CONTINUOUS, diff_cfg, net.state_dict())
    for k, arr in {'noise': noise, 'sample': heun, 'sample_using_dpmpp': dpmpp}.items():
        mf.save_npy(os.path.join(case, f'{k}.npy'), mf.channels_last(arr))
    gap = float((dpmpp - dpmpp_clamped).abs().max())
    mf.write_json(os.path.join(case, 'values.json'), {'dpmpp_clamped_max_abs_difference': gap})
    print(f'edm: sample mean {heun.mean():.4f}, dpmpp mean {dpmpp.mean():.4f}, clamped dpmpp differs by {gap:.4f}')


def ddpm_case(out):
    diff_cfg = dict(type='GaussianDiffusion', image_size=8, timesteps=10)
    torch.manual_seed(62)
    net = mf.randomize(mf.ddp.Unet(**mf.to_kwargs(UNET_DISCRETE)))
    net.eval()
    d = mf.ddp.GaussianDiffusion(net, **mf.to_kwargs(diff_cfg))
    d.eval()
    assert not d.is_ddim_sampling
    noise = torch.randn(2, 1, 8, 8)
    with ff.no_step_noise(noise) as calls:
        ddpm = d.sample(batch_size=2)
    assert len(calls) == 1
    case = os.path.join(out, 'gaussian_ddpm')
    ff.save_common(case, UNET_DISCRETE, diff_cfg, net.state_dict())
    for k, arr in {'noise': noise, 'ddpm_no_step_noise': ddpm}.items():
        mf.save_npy(os.path.join(case, f'{k}.npy'), mf.channels_last(arr))
    print(f'ddpm: mean {ddpm.mean():.4f}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('ref_dir', nargs='?', default='/tmp/ref')
    ap.add_argument('--out', default=os.path.dirname(os.path.abspath(__file__)))
    args = ap.parse_args()
    mf.install_stubs()
    ff.install_einops_patterns()
    (ddp, edm_mod), version = mf.import_modules(args.ref_dir, 'denoising_diffusion_pytorch', 'elucidated_diffusion')
    mf.ddp = ddp
    print(f'reference version {version}, torch {torch.__version__}')
    torch.set_grad_enabled(False)
    edm_case(args.out, edm_mod)
    ddpm_case(args.out)


if __name__ == '__main__':
    main()
