#!/usr/bin/python3
"""Times the bench cases of `tools/diffusion4j bench` in the Python reference, on this machine.

Usage:  /usr/bin/python3 tools/reference_bench.py REF_DIR [CASE ...] [--warmup N] [--repeats N] [--bf16]

REF_DIR holds the `denoising_diffusion_pytorch/` package of denoising-diffusion-pytorch (2.3.1 was
used for the fixtures). The reference runs as a library, with the fixture scripts' stand-ins for
optional imports that Debian's torch lacks. Each case builds the same network at the same batch
size as diffusion4j's case of that name and does the same work per run; one JSON line per case.
With --bf16 the forward passes run under torch.autocast('cpu', dtype=torch.bfloat16), which is
what the reference Trainer's amp=True, mixed_precision_type='bf16' does through Accelerate (the
backward pass and the optimizer outside it). Figures mean something only beside diffusion4j's, timed on the same machine in the same session
(tools/compare-reference does both).
"""

import argparse
import json
import os
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'src', 'test', 'resources', 'reference'))
sys.path.insert(0, os.path.join(HERE, '..', 'src', 'test', 'resources', 'reference', 'karras'))
import make_fixtures as mf  # noqa: E402  (the project's stand-ins for optional imports)


AUTOCAST = {'enabled': False}


def autocast():
    """bfloat16 autocast when --bf16 was given, else a context that changes nothing."""
    return torch.autocast('cpu', dtype=torch.bfloat16, enabled=AUTOCAST['enabled'])


def train_runner(diffusion, batch):
    """One training step as the reference Trainer takes it: loss, backward, clipping, Adam, EMA."""
    opt = torch.optim.Adam(diffusion.parameters(), lr=1e-4, betas=(0.9, 0.99))
    ema = [p.detach().clone() for p in diffusion.parameters()]
    step = [0]

    def run():
        with autocast():
            loss = diffusion(batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(diffusion.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
        step[0] += 1
        if step[0] % 10 == 0:
            with torch.no_grad():
                for e, p in zip(ema, diffusion.parameters()):
                    e.lerp_(p, 1 - 0.995)
    return run


def cases(ref_dir):
    (ddp, ddp1), _ = mf.import_modules(ref_dir, 'denoising_diffusion_pytorch', 'denoising_diffusion_pytorch_1d')

    def unet2d():
        return ddp.Unet(dim=32, dim_mults=(1, 2, 4), channels=3)

    def gaussian2d(sampling_timesteps=1000):
        return ddp.GaussianDiffusion(unet2d(), image_size=32, sampling_timesteps=sampling_timesteps)

    def unet2d_eval():
        net = unet2d().eval()
        x = torch.rand(16, 3, 32, 32)
        t = torch.full((16,), 500.0)

        def run():
            with torch.no_grad(), autocast():
                net(x, t)
        return run

    def unet2d_ddim50():
        d = gaussian2d(50).eval()

        def run():
            with torch.no_grad(), autocast():
                d.ddim_sample((16, 3, 32, 32))
        return run

    def unet1d_train():
        d = ddp1.GaussianDiffusion1D(ddp1.Unet1D(dim=32, dim_mults=(1, 2, 4), channels=2), seq_length=128)
        return train_runner(d, torch.rand(32, 2, 128))

    def edm():
        (elucidated,), _ = mf.import_modules(ref_dir, 'elucidated_diffusion')
        net = ddp.Unet(dim=32, dim_mults=(1, 2, 4), channels=3, learned_sinusoidal_cond=True)
        return elucidated.ElucidatedDiffusion(net, image_size=32, channels=3)

    def edm_heun32():
        d = edm().eval()

        def run():
            with torch.no_grad(), autocast():
                d.sample(batch_size=16, num_sample_steps=32)
        return run

    def karras_fwd_bwd():
        import make_karras_fixtures as mk
        mk._extend_einops()
        _, k2, _, _ = mk.import_karras(ref_dir)
        net = k2.KarrasUnet(image_size=32, dim=64, dim_max=256, channels=3, num_downsamples=2,
                            num_blocks_per_stage=2, attn_res=(8,))
        x = torch.rand(16, 3, 32, 32)
        t = torch.full((16,), 0.25)

        def run():
            with autocast():
                out = net(x, t)
            ((out.float() - x) ** 2).mean().backward()
            net.zero_grad()
        return run

    return {
        'unet2d_train': lambda: train_runner(gaussian2d(), torch.rand(16, 3, 32, 32)),
        'unet2d_eval': unet2d_eval,
        'unet2d_ddim50': unet2d_ddim50,
        'unet1d_train': unet1d_train,
        'edm_train': lambda: train_runner(edm(), torch.rand(16, 3, 32, 32)),
        'edm_heun32': edm_heun32,
        'karras_fwd_bwd': karras_fwd_bwd,
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('ref_dir')
    p.add_argument('cases', nargs='*')
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--threads', type=int, default=os.cpu_count(),
                   help='intra-op threads (default: every CPU, as TensorFlow uses; torch may pick fewer)')
    p.add_argument('--bf16', action='store_true', help="forward passes under bfloat16 autocast (the Trainer's amp)")
    args = p.parse_args()
    AUTOCAST['enabled'] = args.bf16
    torch.set_num_threads(args.threads)
    mf.install_stubs()
    torch.manual_seed(0)
    all_cases = cases(args.ref_dir)
    for name in args.cases or list(all_cases):
        if name not in all_cases:
            raise SystemExit(f'no case {name!r}: expected one of {", ".join(all_cases)}')
        sampling = name.endswith(('ddim50', 'heun32'))
        warmup, repeats = (min(args.warmup, 1), min(args.repeats, 3)) if sampling else (args.warmup, args.repeats)
        run = all_cases[name]()
        for _ in range(warmup):
            run()
        ms = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            ms.append((time.perf_counter() - start) * 1e3)
        print(json.dumps({'case': name, 'implementation': 'denoising-diffusion-pytorch', 'torch': torch.__version__,
                          'threads': torch.get_num_threads(), 'repeats': repeats,
                          'precision': 'bf16 autocast' if args.bf16 else 'fp32',
                          'median_ms': round(statistics.median(ms), 2), 'min_ms': round(min(ms), 2),
                          'max_ms': round(max(ms), 2)}), flush=True)


if __name__ == '__main__':
    main()
