"""emc.Model: training, decoding, scoring, sampling, parameters, errors, pickling."""

import os
import pickle
import shutil
import signal
import subprocess
import threading
import time

import numpy as np
import pytest

import emc
from conftest import ROOT, model_path

TWO_COINS = open(model_path("two_coins.em")).read()
TWO_COINS_DATA = model_path("two_coins.txt")


def test_two_coins_from_source_string():
    m = emc.Model(TWO_COINS).fit(TWO_COINS_DATA)
    # Do & Batzoglou (2008): 0.80 after 10 iterations.
    assert m.params_["toss"][0, 0] == pytest.approx(0.7967441494752114, abs=1e-14)
    assert m.domains_ == {"Coin": ["A", "B"], "Face": ["H", "T"]}
    assert len(m.trace_) == 11
    assert np.all(np.diff(m.trace_) >= 0)
    assert m.fit_info_["plan"] == "enumeration"


def test_two_coins_from_a_path_and_lines_give_the_same_bits():
    a = emc.Model(model_path("two_coins.em")).fit(TWO_COINS_DATA)
    lines = open(TWO_COINS_DATA).read().splitlines()
    b = emc.Model(TWO_COINS).fit(lines)
    assert a.params_json() == b.params_json()
    assert np.array_equal(a.trace_, b.trace_)


def test_the_same_bits_as_the_command_line(tmp_path):
    exe = os.environ.get("EMC_BIN", os.path.join(ROOT, "target", "release", "emc"))
    if not os.path.exists(exe):
        pytest.skip("no target/release/emc (cargo build --release)")
    out = tmp_path / "out"
    subprocess.run([exe, "run", model_path("hmm.em"), model_path("hmm.txt"), "--out", str(out),
                    "--iterations", "5", "--quiet", "--set", "K=4"],
                   check=True, capture_output=True)
    m = emc.Model(model_path("hmm.em"), K=4).fit(model_path("hmm.txt"), iterations=5)
    assert m.params_json() == (out / "params.json").read_text()
    trace = np.loadtxt(out / "trace.tsv", skiprows=1, usecols=1)
    assert np.array_equal(trace, m.trace_)


def test_precision_follows_the_command_line(tmp_path):
    # 20 states: `auto` holds the messages in single precision, as `emc run` does.
    exe = os.environ.get("EMC_BIN", os.path.join(ROOT, "target", "release", "emc"))
    if not os.path.exists(exe):
        pytest.skip("no target/release/emc (cargo build --release)")
    traces = {}
    for precision in ["auto", "f64"]:
        out = tmp_path / precision
        subprocess.run([exe, "run", model_path("hmm.em"), model_path("hmm.txt"), "--out",
                        str(out), "--iterations", "4", "--quiet", "--set", "K=20",
                        "--precision", precision], check=True, capture_output=True)
        m = emc.Model(model_path("hmm.em"), K=20).fit(model_path("hmm.txt"), iterations=4,
                                                      precision=precision)
        assert m.params_json() == (out / "params.json").read_text()
        traces[precision] = m.trace_
        # Scored in the fit's precision: the trace's last log-likelihood, to the bit.
        assert m.score(model_path("hmm.txt")) == m.trace_[-1]
    assert np.allclose(traces["auto"], traces["f64"], rtol=1e-7, atol=0)
    with pytest.raises(ValueError, match="precision `f16`"):
        emc.Model(model_path("hmm.em"), K=20).fit(model_path("hmm.txt"), precision="f16")


def test_callback_is_called_once_per_iteration():
    seen = []
    emc.Model(TWO_COINS).fit(TWO_COINS_DATA, iterations=7, callback=seen.append)
    assert [i["iteration"] for i in seen] == list(range(8))
    assert all(i["restart"] == 0 for i in seen)
    assert seen[0]["change"] is None and seen[1]["change"] is not None


def test_callback_returning_true_stops_with_those_parameters():
    full = emc.Model(TWO_COINS).fit(TWO_COINS_DATA, iterations=4)
    m = emc.Model(TWO_COINS).fit(TWO_COINS_DATA, callback=lambda i: i["iteration"] == 4)
    assert len(m.trace_) == 5
    assert m.params_json() == full.params_json()


def test_an_exception_in_the_callback_keeps_the_parameters_and_is_raised():
    def boom(info):
        if info["iteration"] == 3:
            raise KeyboardInterrupt
    m = emc.Model(TWO_COINS)
    with pytest.raises(KeyboardInterrupt):
        m.fit(TWO_COINS_DATA, callback=boom)
    assert m.fitted
    assert len(m.trace_) == 4
    three = emc.Model(TWO_COINS).fit(TWO_COINS_DATA, iterations=3)
    assert m.params_json() == three.params_json()
    assert m.score(TWO_COINS_DATA) == m.trace_[-1]


def test_ctrl_c_stops_training_cleanly():
    # Python's own SIGINT handler, even where the test runs with SIGINT ignored (a
    # non-interactive shell's background job); a deadline stops training were it not called.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    deadline = time.monotonic() + 60
    m = emc.Model(model_path("hmm.em"), K=20)
    timer = threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            m.fit(model_path("hmm.txt"), iterations=1_000_000, tolerance=0, threads=1,
                  callback=lambda info: time.monotonic() > deadline)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert m.fitted
    assert m.fit_info_["interrupted"]
    assert 1 <= len(m.trace_) < 1_000_001
    # The parameters kept are those whose log-likelihood ends the trace.
    assert m.score(model_path("hmm.txt")) == pytest.approx(m.trace_[-1], rel=1e-12)


def test_restarts_keep_one_trace_each():
    m = emc.Model(model_path("hmm.em"), K=3).fit(model_path("hmm.txt"), iterations=3,
                                                 restarts=3, seed=1)
    assert len(m.traces_) == 3
    best = m.fit_info_["best_restart"]
    assert np.array_equal(m.traces_[best], m.trace_)
    assert m.trace_[-1] == max(t[-1] for t in m.traces_)


def test_decode_posteriors_score_sample():
    m = emc.Model(TWO_COINS).fit(TWO_COINS_DATA)
    assert m.decode(TWO_COINS_DATA) == ["B", "A", "A", "B", "A"]
    post = m.posteriors(TWO_COINS_DATA)
    assert len(post) == 5
    var, values, probs = post[0][0]
    assert var == "coin" and values == ["A", "B"]
    assert probs.sum() == pytest.approx(1.0)
    assert probs.argmax() == 1
    total = m.score(TWO_COINS_DATA)
    assert total == m.trace_[-1]
    assert m.score(TWO_COINS_DATA, per_sample=True) == pytest.approx(total / 5)
    assert m.score_samples(TWO_COINS_DATA).sum() == pytest.approx(total)
    lines = m.sample(4, seed=3)
    assert len(lines) == 4 and all(len(l.split()) == 10 for l in lines)
    assert m.sample(4, seed=3) == lines


def test_save_and_load(tmp_path):
    m = emc.Model(TWO_COINS).fit(TWO_COINS_DATA)
    m.save(tmp_path / "params.json")
    n = emc.Model(TWO_COINS).load(tmp_path / "params.json")
    assert n.params_json() == m.params_json()
    assert n.decode(TWO_COINS_DATA) == m.decode(TWO_COINS_DATA)
    # Training can start from saved parameters (`emc run --init`).
    k = emc.Model(TWO_COINS).fit(TWO_COINS_DATA, init=tmp_path / "params.json", iterations=0)
    assert k.params_json() == m.params_json()


def test_pickling_a_fitted_model():
    m = emc.Model(model_path("hmm.em"), K=3).fit(model_path("hmm.txt"), iterations=3)
    n = pickle.loads(pickle.dumps(m))
    assert n.params_json() == m.params_json()
    assert np.array_equal(n.trace_, m.trace_)
    assert n.decode(model_path("hmm.txt")) == m.decode(model_path("hmm.txt"))
    unfitted = pickle.loads(pickle.dumps(emc.Model(TWO_COINS)))
    assert not unfitted.fitted


def test_a_bad_model_raises_the_rendered_diagnostic():
    bad = TWO_COINS.replace("Categorical(Face | Coin)", "Categorical(Face | Coins)")
    with pytest.raises(emc.ModelError) as e:
        emc.Model(bad)
    text = str(e.value)
    assert isinstance(e.value, emc.EmcError)
    assert "unknown domain `Coins`" in text
    line = bad.splitlines().index(next(l for l in bad.splitlines() if "Coins" in l)) + 1
    assert "<model>:%d:" % line in text
    assert "^" in text and "hint" in text


def test_a_bad_model_file_names_its_path(tmp_path):
    p = tmp_path / "bad.em"
    p.write_text("domain A = {x}\ndata d : A\nparam p : Categorical(A\nmodel { d ~ p }\n")
    with pytest.raises(emc.ModelError) as e:
        emc.Model(str(p))
    assert str(p) + ":3:" in str(e.value)


def test_bad_data_raises_a_data_error():
    m = emc.Model(TWO_COINS)
    with pytest.raises(emc.DataError) as e:
        m.fit(["H T H", "H X T"])
    assert "<data>:2:" in str(e.value) and "^" in str(e.value)


def test_a_parameter_file_of_another_model_raises_a_params_error(tmp_path):
    m = emc.Model(model_path("hmm.em"), K=3).fit(model_path("hmm.txt"), iterations=1)
    m.save(tmp_path / "p.json")
    with pytest.raises(emc.ParamsError):
        emc.Model(TWO_COINS).load(tmp_path / "p.json")


def test_unfitted_model_says_so():
    with pytest.raises(RuntimeError, match="no parameters"):
        emc.Model(TWO_COINS).decode(TWO_COINS_DATA)


GMM = """
domain Comp = 0..2
data x : Real[2]
param w : Categorical(Comp)
param g : Gaussian(Real[2] | Comp) { covariance: full }
model { hidden c : Comp  c ~ w  x ~ g(c) }
"""


def test_numpy_arrays_as_data():
    X = np.loadtxt(model_path("gmm_2d.txt"))
    a = emc.Model(GMM).fit(X, iterations=10, seed=1)
    b = emc.Model(GMM).fit(model_path("gmm_2d.txt"), iterations=10, seed=1)
    assert a.params_json() == b.params_json()
    assert a.params_["g"]["means"].shape == (2, 2)
    assert a.params_["g"]["covariances"].shape == (2, 2, 2)
    # Missing coordinates (NaN) are marginalised.
    Y = X.copy()
    Y[::7, 1] = np.nan
    c = emc.Model(GMM).fit(Y, iterations=10, seed=1)
    assert np.isfinite(c.trace_).all()
    assert c.score_samples(Y).shape == (len(Y),)


def test_integer_sequences_as_data():
    text = emc.lines(np.array([0, 1, 1, 0, 1]), lengths=[2, 3])
    assert text == "0 1\n1 0 1\n"
    assert emc.lines(np.array([[1.5, np.nan]])) == "1.5 ?\n"
    assert emc.lines(np.array([[1.0, 2.0], [3.0, 4.0]]), lengths=[2]) == "1.0,2.0 3.0,4.0\n"


def test_progress_bar_runs():
    pytest.importorskip("tqdm")
    m = emc.Model(TWO_COINS).fit(TWO_COINS_DATA, iterations=3, progress=True)
    assert len(m.trace_) == 4


def test_the_same_diagnostic_as_the_command_line(tmp_path):
    exe = os.environ.get("EMC_BIN", os.path.join(ROOT, "target", "release", "emc"))
    if not os.path.exists(exe):
        pytest.skip("no target/release/emc (cargo build --release)")
    p = tmp_path / "bad.em"
    p.write_text(TWO_COINS.replace("toss(coin)", "toss(coins)"))
    cli = subprocess.run([exe, "check", str(p)], capture_output=True, text=True)
    assert cli.returncode == 1
    with pytest.raises(emc.ModelError) as e:
        emc.Model(str(p))
    assert str(e.value) == cli.stderr.strip()
    data = tmp_path / "data.txt"
    data.write_text("H T\nH Q T\n")
    cli = subprocess.run([exe, "run", model_path("two_coins.em"), str(data), "--out",
                          str(tmp_path / "out")], capture_output=True, text=True)
    assert cli.returncode == 1
    with pytest.raises(emc.DataError) as e:
        emc.Model(model_path("two_coins.em")).fit(str(data))
    assert str(e.value) == cli.stderr.strip()


def test_training_releases_the_gil():
    # A Python thread keeps counting while emc trains (it would stop were the GIL held).
    def rate(work):
        stop, out = threading.Event(), []

        def count():
            n = 0
            while not stop.is_set():
                n += 1
            out.append(n)

        t = threading.Thread(target=count)
        t.start()
        start = time.perf_counter()
        work()
        elapsed = time.perf_counter() - start
        stop.set()
        t.join()
        return out[0] / elapsed, elapsed

    m = emc.Model(model_path("hmm.em"), K=60)
    training, elapsed = rate(lambda: m.fit(model_path("hmm.txt"), iterations=3, threads=1))
    idle, _ = rate(lambda: time.sleep(elapsed))
    assert training > 0.1 * idle, (training, idle)
