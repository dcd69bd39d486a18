"""A PyTorch training step of the book's chapter-6 models, in a child process.

Started by ``test_bench_models.py`` (PyTorch's OpenMP threads and fastrnn's
OpenBLAS then never share a process). Its argument is a JSON object:
``model`` ("lstm" or "better"), ``V``, ``D``, ``H``, ``N``, ``T``,
``dropout``, ``seed``. It builds the model as the book's ``Rnnlm`` /
``BetterRnnlm`` (Embedding; one LSTM, or Dropout, LSTM, Dropout, LSTM,
Dropout; Linear, tied to the embedding for better), float32, then prints
``ready <torch version> <threads>`` and, for every line "step" it reads,
runs one training step (forward, cross-entropy, backward, clipping of the
global gradient norm to 0.25, SGD with lr 20; the hidden state carried to
the next step and detached, truncated BPTT) on the next batch of random ids
and prints ``ok <loss>``. An empty line or the end of its input ends it.
"""

import json
import sys

import numpy as np
import torch


def main() -> None:
    cfg = json.loads(sys.argv[1])
    torch.manual_seed(cfg["seed"])
    V, D, H, N, T = (cfg[k] for k in ("V", "D", "H", "N", "T"))
    nn = torch.nn
    better = cfg["model"] == "better"
    embed = nn.Embedding(V, D)
    lstms = nn.ModuleList([nn.LSTM(D if i == 0 else H, H, batch_first=True)
                           for i in range(2 if better else 1)])
    drop = nn.Dropout(cfg["dropout"]) if better else nn.Identity()
    affine = nn.Linear(H, V)
    if better:
        affine.weight = embed.weight  # (V, D), D == H: the book's W_out = W_emb.T
    params = list({id(p): p for m in (embed, lstms, affine) for p in m.parameters()}.values())
    opt = torch.optim.SGD(params, lr=20.0)
    loss_fn = nn.CrossEntropyLoss()
    ids = torch.from_numpy(np.random.default_rng(cfg["seed"]).integers(
        0, V, (20, N, T + 1)))
    state = [None] * len(lstms)
    embed.train(), drop.train()
    print(f"ready {torch.__version__} {torch.get_num_threads()}", flush=True)
    i = 0
    for line in sys.stdin:
        if line.strip() != "step":
            break
        batch = ids[i % len(ids)]
        i += 1
        xs, ts = batch[:, :-1], batch[:, 1:]
        h = drop(embed(xs))
        for k, lstm in enumerate(lstms):
            h, (hn, cn) = lstm(h, state[k])
            state[k] = (hn.detach(), cn.detach())
            h = drop(h)
        scores = affine(h)
        loss = loss_fn(scores.reshape(-1, V), ts.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(params, 0.25)
        opt.step()
        print(f"ok {loss.item():.6f}", flush=True)


if __name__ == "__main__":
    main()
