#!/usr/bin/python3
"""Fixtures for classifier-free guidance: the reference's classifier_free_guidance module.

Usage:  /usr/bin/python3 make_guidance_fixtures.py [REF_DIR] [--out OUT_DIR]

Shares make_fixtures.py's stand-ins, writers and helpers (see README.md). Each case seeds
torch.manual_seed(k) before building its model.
"""

import argparse
import os

import numpy as np
import torch

import make_fixtures as mf


def install_pack_shim():
    """einops' pack/unpack for the one pattern 'b *' that project() uses, and repeat 'd -> b d'."""
    einops = mf.sys.modules['einops']
    if getattr(einops, '__version__', '') != 'shim':
        return

    def pack(tensors, pattern):
        assert mf.norm_pattern(pattern) == 'b *' and len(tensors) == 1
        t = tensors[0]
        return t.reshape(t.shape[0], -1), [t.shape[1:]]

    def unpack(t, shapes, pattern):
        assert mf.norm_pattern(pattern) == 'b *'
        return [t.reshape(t.shape[0], *shapes[0])]

    real_repeat = einops.repeat

    def repeat(t, pattern, **axes):
        if mf.norm_pattern(pattern) == 'd -> b d':
            return t.unsqueeze(0).expand(axes['b'], *t.shape).contiguous()
        return real_repeat(t, pattern, **axes)

    einops.pack, einops.unpack, einops.repeat = pack, unpack, repeat


def randomize(model):
    """make_fixtures' randomisation; the null class embedding is drawn as the reference draws it."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name == 'null_classes_emb':
                p.copy_(torch.randn_like(p))
            elif name.rsplit('.', 1)[-1] == 'g':
                p.copy_(1 + 0.1 * torch.randn_like(p))
            elif name.endswith('bias'):
                p.copy_(0.1 * torch.randn_like(p))
    return model


def rederiving(diffusion):
    """The diffusion's model_predictions with the noise re-derived from the clamped x0 estimate, as the 2-D
    module's ddim_sample asks (rederive_pred_noise=True); under CFG++ from the clamped unconditional one.
    Only pred_noise changes: pred_x0 and pred_v derive it from the clamped estimate already."""
    original = diffusion.model_predictions

    def predictions(x, t, classes, cond_scale=6., rescaled_phi=0.7, clip_x_start=False):
        pred_noise, x_start = original(x, t, classes, cond_scale, rescaled_phi, clip_x_start)
        if diffusion.objective == 'pred_noise' and clip_x_start:
            x0 = x_start
            if diffusion.use_cfg_plus_plus and cond_scale != 1:
                x0 = diffusion.predict_start_from_noise(x, t, pred_noise).clamp(-1., 1.)
            pred_noise = diffusion.predict_noise_from_start(x, t, x0)
        return cfg_prediction(pred_noise, x_start)

    diffusion.model_predictions = predictions
    return diffusion


cfg_prediction = None


def main():
    global cfg_prediction
    ap = argparse.ArgumentParser()
    ap.add_argument('ref_dir', nargs='?', default='/tmp/ref')
    ap.add_argument('--out', default=os.path.dirname(os.path.abspath(__file__)))
    args = ap.parse_args()
    mf.install_stubs()
    install_pack_shim()
    (cfg_mod,), version = mf.import_modules(args.ref_dir, 'classifier_free_guidance')
    cfg_prediction = cfg_mod.ModelPrediction
    print(f'reference version {version}, torch {torch.__version__}')
    torch.set_grad_enabled(False)

    # the network: conditional and null-class outputs
    model_cfg = dict(type='classifier_free_guidance.Unet', dim=8, num_classes=3, dim_mults=[1, 2], channels=3,
                     attn_heads=2, attn_dim_head=8)
    case = os.path.join(args.out, 'cfg_unet')
    os.makedirs(case, exist_ok=True)
    torch.manual_seed(11)
    model = randomize(cfg_mod.Unet(**mf.to_kwargs(model_cfg)))
    model.eval()
    x = torch.randn(2, 3, 8, 8)
    time = torch.tensor([3., 517.])
    classes = torch.tensor([0, 2])
    out = model(x, time, classes, cond_drop_prob=0.)
    out_null = model(x, time, classes, cond_drop_prob=1.)
    guided, _ = model.forward_with_cond_scale(x, time, classes, cond_scale=3., rescaled_phi=0.7)
    kept, _ = model.forward_with_cond_scale(x, time, classes, cond_scale=3., rescaled_phi=0.,
                                            remove_parallel_component=False)
    frac, _ = model.forward_with_cond_scale(x, time, classes, cond_scale=2.5, rescaled_phi=0.3,
                                            keep_parallel_frac=0.25)
    mf.write_json(os.path.join(case, 'config.json'), {'model': model_cfg})
    mf.save_safetensors(os.path.join(case, 'model.safetensors'), model.state_dict())
    np.save(os.path.join(case, 'classes.npy'), classes.numpy().astype(np.int64))
    mf.save_npy(os.path.join(case, 'x.npy'), mf.channels_last(x))
    mf.save_npy(os.path.join(case, 'time.npy'), time.numpy())
    for k, v in {'out': out, 'out_null': out_null, 'guided_scale3_phi0.7': guided,
                 'guided_scale3_parallel_kept': kept, 'guided_scale2.5_phi0.3_frac0.25': frac}.items():
        mf.save_npy(os.path.join(case, f'{k}.npy'), mf.channels_last(v))
    with open(os.path.join(case, 'param_names.txt'), 'w') as f:
        f.write(''.join(f"{n}\t{','.join(map(str, t.shape))}\n" for n, t in model.state_dict().items()))

    # DDIM at eta 0 with guidance, with rescaling and with CFG++, for two objectives
    for objective, seed in (('pred_noise', 12), ('pred_v', 13)):
        case = os.path.join(args.out, f'cfg_ddim_{objective}')
        os.makedirs(case, exist_ok=True)
        torch.manual_seed(seed)
        net = randomize(cfg_mod.Unet(**mf.to_kwargs(model_cfg)))
        net.eval()
        diff_cfg = dict(type='classifier_free_guidance.GaussianDiffusion', image_size=8, timesteps=100,
                        sampling_timesteps=5, ddim_sampling_eta=0., objective=objective)
        noise = torch.randn(3, 3, 8, 8)
        labels = torch.tensor([0, 1, 2])
        runs = {}
        for name, scale, phi, plus in (('ddim_scale3', 3., 0., False), ('ddim_scale3_phi0.7', 3., 0.7, False),
                                       ('ddim_cfgpp_scale1.5', 1.5, 0., True)):
            d = cfg_mod.GaussianDiffusion(net, **mf.to_kwargs(dict(diff_cfg, use_cfg_plus_plus=plus)))
            d.eval()
            with mf.forced_initial_noise(noise) as calls:
                runs[name] = d.ddim_sample(labels, tuple(noise.shape), cond_scale=scale, rescaled_phi=phi)
            assert len(calls) == 1
            if objective == 'pred_noise':
                with mf.forced_initial_noise(noise) as calls:
                    runs[name + '_rederived'] = rederiving(d).ddim_sample(labels, tuple(noise.shape),
                                                                        cond_scale=scale, rescaled_phi=phi)
                assert len(calls) == 1
        d = cfg_mod.GaussianDiffusion(net, **mf.to_kwargs(diff_cfg))
        net.cond_drop_prob = 0.
        x0 = torch.rand(3, 3, 8, 8) * 2 - 1
        loss_noise = torch.randn(3, 3, 8, 8)
        t = torch.tensor([4, 50, 99])
        loss = d.p_losses(x0, t, classes=labels, noise=loss_noise.clone())
        mf.write_json(os.path.join(case, 'config.json'), {'model': model_cfg, 'diffusion': diff_cfg})
        mf.save_safetensors(os.path.join(case, 'model.safetensors'), net.state_dict())
        mf.save_npy(os.path.join(case, 'noise.npy'), mf.channels_last(noise))
        np.save(os.path.join(case, 'classes.npy'), labels.numpy().astype(np.int64))
        for k, v in runs.items():
            mf.save_npy(os.path.join(case, f'{k}.npy'), mf.channels_last(v))
        mf.save_npy(os.path.join(case, 'x0.npy'), mf.channels_last(x0))
        mf.save_npy(os.path.join(case, 'loss_noise.npy'), mf.channels_last(loss_noise))
        mf.write_json(os.path.join(case, 'loss.json'), {'times': t.tolist(), 'loss': float(loss),
                                                        'cond_drop_prob': 0.})
        for k, v in runs.items():
            print(f'{objective} {k}: mean {v.mean():.4f} std {v.std():.4f}')


if __name__ == '__main__':
    main()
