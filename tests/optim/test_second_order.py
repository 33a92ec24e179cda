"""LBFGS against torch.optim.LBFGS on Rosenbrock; NewtonCG on quadratics and logistic
regression."""

import numpy as np
import pytest
import scipy.optimize
import torch

import steepest as st
import steepest.optim as so


def rosen_st(x):
    a, b = x[:-1], x[1:]
    return (100.0 * (b - a * a) ** 2 + (1.0 - a) ** 2).sum()


def rosen_torch(x):
    a, b = x[:-1], x[1:]
    return (100.0 * (b - a * a) ** 2 + (1.0 - a) ** 2).sum()


def _run_lbfgs(x0, steps, kw, resume_at=None):
    """Run both; return the lists of points at which each evaluated the function."""
    x = st.Tensor(x0.copy(), requires_grad=True)
    tx = torch.tensor(x0.copy(), requires_grad=True)
    opt = so.LBFGS([x], **kw)
    topt = torch.optim.LBFGS([tx], **kw)
    seen, tseen = [], []

    def closure():
        opt.zero_grad()
        loss = rosen_st(x)
        loss.backward()
        seen.append(x.data.copy())
        return loss

    def tclosure():
        topt.zero_grad()
        loss = rosen_torch(tx)
        loss.backward()
        tseen.append(tx.detach().numpy().copy())
        return loss

    for k in range(steps):
        if k == resume_at:
            sd = opt.state_dict()
            x = st.Tensor(x.data.copy(), requires_grad=True)
            opt = so.LBFGS([x], **kw)
            opt.load_state_dict(sd)
        loss = opt.step(closure)
        tloss = topt.step(tclosure)
        assert float(loss) == pytest.approx(tloss.item(), rel=1e-8, abs=1e-12)
    return x, tx, seen, tseen, opt, topt


@pytest.mark.parametrize("n", [2, 6])
@pytest.mark.parametrize("resume_at", [None, 2])
def test_lbfgs_strong_wolfe_matches_torch_on_rosenbrock(n, resume_at):
    x0 = np.array([-1.5, 2.0] * (n // 2))
    kw = dict(lr=1.0, max_iter=20, history_size=10, line_search_fn="strong_wolfe",
              tolerance_grad=1e-10, tolerance_change=1e-14)
    x, tx, seen, tseen, opt, topt = _run_lbfgs(x0, 8, kw, resume_at)
    assert len(seen) == len(tseen)
    np.testing.assert_allclose(np.array(seen), np.array(tseen), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(x.data, np.ones(n), atol=1e-6)
    st0 = opt.state[0]
    tst0 = topt.state[topt.param_groups[0]["params"][0]]
    assert st0["func_evals"] == tst0["func_evals"]
    assert st0["n_iter"] == tst0["n_iter"]


def test_lbfgs_fixed_step_matches_torch():
    x0 = np.array([-1.2, 1.0, 0.5, -0.3])
    kw = dict(lr=0.1, max_iter=10, history_size=5)
    x, tx, seen, tseen, _, _ = _run_lbfgs(x0, 5, kw)
    assert len(seen) == len(tseen)
    np.testing.assert_allclose(np.array(seen), np.array(tseen), rtol=1e-8, atol=1e-10)


def test_lbfgs_needs_a_closure_and_one_group():
    x = st.Tensor(np.zeros(2), requires_grad=True)
    opt = so.LBFGS([x])
    with pytest.raises(ValueError, match="closure"):
        opt.step()
    with pytest.raises(ValueError, match="one group"):
        so.LBFGS([{"params": [x]}, {"params": [st.Tensor(np.zeros(1), requires_grad=True)]}])


def test_lbfgs_float32():
    x = st.Tensor(np.array([-1.5, 2.0], dtype=np.float32), requires_grad=True)
    opt = so.LBFGS([x], line_search_fn="strong_wolfe", max_iter=100)

    def closure():
        opt.zero_grad()
        loss = rosen_st(x)
        loss.backward()
        return loss

    opt.step(closure)
    assert x.data.dtype == np.float32
    np.testing.assert_allclose(x.data, [1.0, 1.0], atol=1e-3)


# -- NewtonCG -------------------------------------------------------------------------------
def _quadratic(n=8, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n))
    h = a @ a.T + 0.5 * np.eye(n)  # symmetric positive definite
    b = rng.standard_normal(n)
    return h, b


@pytest.mark.parametrize("split", [False, True])
def test_newton_cg_solves_a_convex_quadratic(split):
    h, b = _quadratic()
    n = len(b)
    if split:  # two parameter tensors: the flat view spans both
        ps = [st.Tensor(np.zeros(3), requires_grad=True),
              st.Tensor(np.zeros((n - 3,)), requires_grad=True)]
    else:
        ps = [st.Tensor(np.zeros(n), requires_grad=True)]

    def closure():
        x = st.concatenate(ps) if split else ps[0]
        return 0.5 * (x * st.ops.matmul(h, x)).sum() - (x * b).sum()

    opt = so.NewtonCG(ps, tol=1e-12)
    for _ in range(2):
        opt.step(closure)
    x = np.concatenate([p.data for p in ps])
    np.testing.assert_allclose(x, np.linalg.solve(h, b), rtol=1e-8, atol=1e-10)
    assert opt.state[0]["cg_iters"] <= n + 1
    assert opt.state[0]["n_iter"] == 2


def test_newton_cg_converges_in_at_most_3_iterations():
    h, b = _quadratic(20, seed=1)
    x = st.Tensor(np.ones(20), requires_grad=True)
    opt = so.NewtonCG([x])
    xstar = np.linalg.solve(h, b)
    for _ in range(3):
        opt.step(lambda: 0.5 * (x * st.ops.matmul(h, x)).sum() - (x * b).sum())
        if np.allclose(x.data, xstar, rtol=1e-9, atol=1e-10):
            break
    np.testing.assert_allclose(x.data, xstar, rtol=1e-9, atol=1e-10)


def test_newton_cg_logistic_regression_matches_scipy():
    rng = np.random.default_rng(0)
    n, d = 200, 5
    xs = rng.standard_normal((n, d))
    y = (xs @ rng.standard_normal(d) + 0.5 * rng.standard_normal(n) > 0).astype(np.float64)
    lam = 1e-2

    def f_np(w):
        z = xs @ w
        return np.mean(np.logaddexp(0, z) - y * z) + 0.5 * lam * w @ w

    def g_np(w):
        z = xs @ w
        return xs.T @ (1 / (1 + np.exp(-z)) - y) / n + lam * w

    ref = scipy.optimize.minimize(f_np, np.zeros(d), jac=g_np, method="BFGS",
                                  options=dict(gtol=1e-12))
    w = st.Tensor(np.zeros(d), requires_grad=True)

    def closure():
        z = st.ops.matmul(xs, w)
        return (st.log(1.0 + st.exp(z)) - y * z).mean() + 0.5 * lam * (w * w).sum()

    opt = so.NewtonCG([w], line_search=True)
    norms = []
    for _ in range(6):
        opt.step(closure)
        norms.append(np.linalg.norm(g_np(w.data)))
    assert norms[-1] < 1e-12
    assert norms[3] < norms[2] ** 1.5  # quadratic convergence near the optimum
    np.testing.assert_allclose(w.data, ref.x, rtol=1e-6, atol=1e-8)
    assert f_np(w.data) <= ref.fun + 1e-12


def test_newton_cg_damping_and_negative_curvature():
    # f = x0^2 - x1^2 (saddle): CG meets negative curvature; the step must still descend
    x = st.Tensor(np.array([1.0, 0.5]), requires_grad=True)

    def closure():
        return x[0] * x[0] - x[1] * x[1]

    opt = so.NewtonCG([x], damping=0.1, lr=0.1)
    f0 = float(closure())
    opt.step(closure)
    assert float(closure()) < f0


def test_newton_cg_needs_a_closure():
    x = st.Tensor(np.zeros(2), requires_grad=True)
    with pytest.raises(ValueError, match="closure"):
        so.NewtonCG([x]).step()
    with pytest.raises(ValueError, match="NewtonCG: parameter groups are not supported"):
        so.NewtonCG([x]).add_param_group({"params": [st.Tensor(np.zeros(1),
                                                               requires_grad=True)]})
