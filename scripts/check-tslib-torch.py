#!/usr/bin/env python3
"""Check sparsecast's weights against real Time-Series-Library (TSLib) models in PyTorch, both ways.

NOT run in CI: it needs PyTorch, pandas, safetensors and a TSLib checkout (thuml/Time-Series-Library), none
of which the test suite installs. CI checks the same layout without PyTorch: test/tslib-import.test.ts (a
state dict written in TSLib's layout by our own code, through `sparsecast import`) and
test/tslib-state-dicts.test.ts (every key, shape and dtype of our model.safetensors, committed in
test/fixtures/tslib-state-dicts.json; the Transformer's keys equal a list taken from real TSLib).

    python scripts/check-tslib-torch.py --tslib ~/Time-Series-Library --run runs/etth1-pals --data data/ETTh1.csv

RUN is a run folder (`sparsecast train --out RUN`, or `sparsecast import --out RUN`) of a TSLib model
(Transformer, Informer, Autoformer, FEDformer, NSTransformer, DLinear; our LSTM is no TSLib model).

1. Out: RUN/model.safetensors, minus its `mask.*` tensors, loads into TSLib's model with
   load_state_dict(strict=True); masked entries are exactly zero; TSLib's forecast of the last window of DATA
   equals `sparsecast predict --checkpoint RUN --data DATA`.
2. In: a TSLib model of RUN's configuration with fresh PyTorch weights, 70 % of each rank >= 2 parameter set to
   exactly zero (as the PALS reference's masks leave them), saved with safetensors' save_file, goes through
   `sparsecast import` (the same model flags) and `sparsecast predict`, whose forecast must equal TSLib's.

Informer's ProbAttention samples keys at random (torch.randint) in every forward pass, in TSLib and here with
another generator, so its forecasts are compared loosely (reported, not failed). A FEDformer must use
mode_select 'low' for step 2 (TSLib draws random modes with numpy; they are not in the state dict).
Exit status 0 when every check passed.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from types import SimpleNamespace

import numpy as np
import pandas as pd
import torch
from safetensors.torch import load_file, save_file

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = [os.environ.get("NODE", "node"), os.path.join(REPO, "bin", "sparsecast.js")]


def tslib_model(name, cfg):
    """TSLib's Model for our config.json `cfg` (camelCase) under TSLib's argument names."""
    import importlib

    # TSLib's file names; ours differ only for the non-stationary Transformer.
    file = "Nonstationary_Transformer" if name == "NSTransformer" else name
    module = importlib.import_module(f"models.{file}")
    configs = SimpleNamespace(
        task_name="long_term_forecast", seq_len=cfg["seqLen"], label_len=cfg["labelLen"], pred_len=cfg["predLen"],
        enc_in=cfg["encIn"], dec_in=cfg["decIn"], c_out=cfg["cOut"], d_model=cfg["dModel"], n_heads=cfg["nHeads"],
        e_layers=cfg["eLayers"], d_layers=cfg["dLayers"], d_ff=cfg["dFf"], dropout=cfg["dropout"], factor=cfg["factor"],
        activation=cfg["activation"], embed="timeF", freq=cfg["freq"], moving_avg=cfg["movingAvg"],
        distil=cfg["distil"], output_attention=False, num_class=1,
        p_hidden_dims=cfg.get("pHiddenDims", [128, 128]), p_hidden_layers=cfg.get("pHiddenLayers", 2),
    )
    if name == "FEDformer":
        # TSLib takes these as constructor arguments, not from configs.
        return module.Model(configs, mode_select=cfg.get("modeSelect", "random"), modes=cfg.get("modes", 32))
    return module.Model(configs)


def stand_in_for_reformer():
    """TSLib's layers/SelfAttention_Family.py imports reformer_pytorch at module level for its ReformerLayer,
    which none of the models compared here use. Where that package is not installed (it is not on every
    package index), an empty module stands in, so that the import succeeds; using its LSHSelfAttention fails."""
    try:
        import reformer_pytorch  # noqa: F401
    except ImportError:
        import types

        stand_in = types.ModuleType("reformer_pytorch")

        class LSHSelfAttention:  # noqa: D401
            def __init__(self, *args, **kwargs):
                raise ImportError("reformer_pytorch is not installed (TSLib's Reformer needs it)")

        stand_in.LSHSelfAttention = LSHSelfAttention
        sys.modules["reformer_pytorch"] = stand_in


def last_window(run, data):
    """The encoder / decoder inputs of the window after DATA's last row, as `sparsecast predict` builds them:
    the trained columns by name, the trained scaler, TSLib's time features, future dates continuing the step."""
    from utils.timefeatures import time_features  # TSLib's (its checkout is on sys.path: main)

    cfg, scaler = run["cfg"], run["scaler"]
    df = pd.read_csv(data)
    cols = scaler["columns"]
    values = (df[cols].to_numpy(np.float64) - np.array(scaler["mean"])) / np.array(scaler["std"])
    dates = pd.to_datetime(df["date"])
    step = dates.iloc[-1] - dates.iloc[-2]
    future = pd.DatetimeIndex([dates.iloc[-1] + (k + 1) * step for k in range(cfg["predLen"])])
    seq, lab, pred = cfg["seqLen"], cfg["labelLen"], cfg["predLen"]
    mark = lambda d: time_features(pd.DatetimeIndex(d), freq=cfg["freq"]).T  # noqa: E731
    x = torch.tensor(values[-seq:], dtype=torch.float32)[None]
    x_mark = torch.tensor(mark(dates.iloc[-seq:]), dtype=torch.float32)[None]
    dec = torch.cat([x[:, seq - lab:, :], torch.zeros(1, pred, x.shape[2])], dim=1)
    y_mark = torch.tensor(np.concatenate([mark(dates.iloc[len(dates) - lab:]), mark(future)]), dtype=torch.float32)[None]
    return x, x_mark, dec, y_mark


def tslib_forecast(model, run, data):
    model.eval()
    with torch.no_grad():
        y = model(*last_window(run, data))[0, -run["cfg"]["predLen"]:, :].double().numpy()
    return y * np.array(run["scaler"]["std"]) + np.array(run["scaler"]["mean"])


def our_forecast(run_dir, data, tmp):
    out = os.path.join(tmp, "forecast.csv")
    subprocess.run([*CLI, "predict", "--checkpoint", run_dir, "--data", data, "--out", out], check=True)
    return pd.read_csv(out).drop(columns=["date"]).to_numpy(np.float64)


def compare(what, ours, theirs, std, loose):
    scale = np.abs(theirs) + np.array(std)
    err = float(np.max(np.abs(ours - theirs) / scale))
    ok = err <= 1e-4
    print(f"{what}: max |ours − TSLib| / (|TSLib| + std) = {err:.2e}{'' if ok else (' (Informer: random key sampling, not compared)' if loose else '  FAILED')}")
    return ok or loose


def import_flags(run):
    """`sparsecast import` flags for RUN's model (the model flags of train, from config.json)."""
    c = run["cfg"]
    flags = ["--model", run["model"], "--seq_len", c["seqLen"], "--label_len", c["labelLen"], "--pred_len", c["predLen"],
             "--d_model", c["dModel"], "--n_heads", c["nHeads"], "--e_layers", c["eLayers"], "--d_layers", c["dLayers"],
             "--d_ff", c["dFf"], "--dropout", c["dropout"], "--factor", c["factor"], "--moving_avg", c["movingAvg"],
             "--activation", c["activation"], "--freq", c["freq"], "--features", run["features"], "--target", run["target"],
             "--seed", run["seed"], "--modes", c.get("modes", 32), "--mode_select", c.get("modeSelect", "random"),
             "--p_hidden_dims", ",".join(str(v) for v in c.get("pHiddenDims", [128, 128])),
             "--p_hidden_layers", c.get("pHiddenLayers", 2)]
    if run.get("kind"):
        flags += ["--data_kind", run["kind"]]
    if not c["distil"]:
        flags.append("--distil")  # TSLib's store_false flag: given, it turns distilling off
    return [str(v) for v in flags]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tslib", required=True, help="a Time-Series-Library checkout")
    ap.add_argument("--run", required=True, help="a sparsecast run folder")
    ap.add_argument("--data", required=True, help="the CSV the run was trained on")
    args = ap.parse_args()
    sys.path.insert(0, os.path.abspath(args.tslib))  # TSLib's `models` and `utils` packages
    stand_in_for_reformer()
    run = json.load(open(os.path.join(args.run, "config.json")))
    name = run["model"]
    if name == "LSTM":
        sys.exit("LSTM is sparsecast's own baseline, not a TSLib model: nothing to compare")
    loose = name == "Informer"
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        # 1. Our weights into TSLib's model.
        sd = load_file(os.path.join(args.run, "model.safetensors"))
        masks = {k[len("mask."):]: v for k, v in sd.items() if k.startswith("mask.")}
        state = {k: v for k, v in sd.items() if not k.startswith("mask.")}
        model = tslib_model(name, run["cfg"])
        theirs = model.state_dict()
        model.load_state_dict(state, strict=True)  # raises on any missing / unexpected key or shape mismatch
        for k, v in state.items():
            if v.dtype != theirs[k].dtype:
                # num_batches_tracked is int64 in PyTorch and F32 in our file; load_state_dict copies it across.
                print(f"note: {k} is {v.dtype} in model.safetensors, {theirs[k].dtype} in TSLib (copied by load_state_dict)")
        for k, m in masks.items():
            if not bool((state[k][m == 0] == 0).all()):
                print(f"{k}: a masked entry is not zero  FAILED")
                ok = False
        print(f"out: {len(state)} tensors loaded with strict=True, {len(masks)} masked")
        ok &= compare("out: forecast", our_forecast(args.run, args.data, tmp), tslib_forecast(model, run, args.data), run["scaler"]["std"], loose)

        # 2. PyTorch weights, with PALS-style zeros, through sparsecast import.
        if name == "FEDformer" and run["cfg"].get("modeSelect", "random") != "low":
            print("in: skipped (FEDformer with random modes cannot be imported)")
        else:
            torch.manual_seed(0)
            fresh = tslib_model(name, run["cfg"])
            with torch.no_grad():
                for p in fresh.parameters():
                    if p.dim() >= 2:
                        p.view(-1)[torch.randperm(p.numel())[: int(0.7 * p.numel())]] = 0.0
            weights = os.path.join(tmp, "state.safetensors")
            # clone: TSLib's FEDformer passes one FourierBlock to every encoder layer, so two keys share a
            # tensor, which save_file refuses; the file then holds the same values under both keys, as
            # torch.save of the state dict would.
            save_file({k: v.contiguous().clone() for k, v in fresh.state_dict().items()}, weights)
            out = os.path.join(tmp, "imported")
            subprocess.run([*CLI, "import", "--weights", weights, "--data", args.data, *import_flags(run), "--out", out], check=True)
            ok &= compare("in: forecast", our_forecast(out, args.data, tmp), tslib_forecast(fresh, run, args.data), run["scaler"]["std"], loose)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
