"""Python data to the data text emc reads: one line per instance, fields separated as the
model's `data` declaration says (see the README's language section)."""

import os

import numpy as np

from . import _emc


def _number(x):
    """A number as data text: integers as they are, floats so that they read back to the
    same bits, NaN and None as `?` (a missing value)."""
    if x is None:
        return "?"
    if isinstance(x, (bool, np.bool_)):
        return str(int(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        x = float(x)
        return "?" if x != x else repr(x)
    return str(x)


def _token(item):
    """One element of a sequence: a symbol or number, or a vector (comma-separated)."""
    if isinstance(item, str):
        return item
    if isinstance(item, (list, tuple, np.ndarray)):
        return ",".join(_number(v) for v in np.asarray(item, dtype=object).ravel())
    return _number(item)


def _line(item):
    """One data line from a string (as it is), a number, or a sequence of tokens."""
    if isinstance(item, str):
        return item
    if isinstance(item, (list, tuple, np.ndarray)):
        return " ".join(_token(t) for t in item)
    return _number(item)


def lines(X, lengths=None):
    """Data text from a numpy array (or anything `np.asarray` takes).

    - A 2-D float array of shape (n, D): one line per row, its D numbers space-separated (a
      `Real[D]` field, or D numeric fields); with `lengths`, one line per sequence of
      consecutive rows, each row one token of comma-separated numbers (a `[Real[D]]` field)
      or, for D = 1, one number (a `[Real]` field). NaN is written `?`, a missing value that
      emc marginalises.
    - An integer array: the same layout with integers (symbols of a range domain `0..N`, or
      of a vocabulary); a negative integer is written `?` (missing).
    - A 1-D array is a column.
    """
    X = np.asarray(X)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2:
        raise ValueError("X must be 1-D or 2-D, not of shape %r" % (X.shape,))
    if lengths is not None:
        lengths = [int(n) for n in np.asarray(lengths).ravel()]
        if sum(lengths) != X.shape[0]:
            raise ValueError("lengths sum to %d, but X has %d rows" % (sum(lengths), X.shape[0]))
    if np.issubdtype(X.dtype, np.floating):
        return _emc.real_lines(np.ascontiguousarray(X, dtype=np.float64), lengths)
    if np.issubdtype(X.dtype, np.integer) or X.dtype == np.bool_:
        X = X.astype(np.int64)
        cells = np.where(X < 0, "?", X.astype(str))
    else:
        cells = X.astype(str)
    rows = [",".join(r) for r in cells] if lengths is not None else [" ".join(r) for r in cells]
    if lengths is None:
        return "".join(r + "\n" for r in rows)
    out, start = [], 0
    for n in lengths:
        out.append(" ".join(rows[start:start + n]) + "\n")
        start += n
    return "".join(out)


def read(data, lengths=None):
    """`(name, bytes)` of the data: a path (str without a line break, or os.PathLike), the
    text itself (a str with a line break, or bytes), a list of lines (strings, or sequences
    of tokens), or a numpy array (`lines`)."""
    if isinstance(data, os.PathLike) or (isinstance(data, str) and "\n" not in data):
        path = os.fspath(data)
        if not os.path.exists(path):
            raise FileNotFoundError(
                "no data file %r (a string without a line break is a path; give the "
                "text with its line breaks, or a list of lines)" % path)
        with open(path, "rb") as f:
            return path, f.read()
    if lengths is not None and not isinstance(data, np.ndarray):
        data = np.asarray(data)
    if isinstance(data, str):
        return "<data>", data.encode("utf-8")
    if isinstance(data, (bytes, bytearray)):
        return "<data>", bytes(data)
    if isinstance(data, np.ndarray):
        return "<data>", lines(data, lengths).encode("utf-8")
    if isinstance(data, (list, tuple)):
        text = "".join(_line(item) + "\n" for item in data)
        return "<data>", text.encode("utf-8")
    raise TypeError(
        "data must be a path, the data text, a list of lines or a numpy array, not %s"
        % type(data).__name__)
