"""emc, the EM model compiler, from Python.

`emc.Model` compiles a model (a `.em` file or its text) and trains it by exact EM, decodes,
scores and samples with the library code the `emc` command line runs. `emc.CategoricalHMM`
and `emc.GaussianMixture` are estimators with hmmlearn's and scikit-learn's conventions that
write their `.em` model and train it with emc. Errors in a model, its data or a parameter
file raise `emc.EmcError` (subclasses `ModelError`, `DataError`, `ParamsError`) whose message
is the diagnostic the command line prints.
"""

from ._emc import DataError, EmcError, ModelError, ParamsError, __version__
from ._data import lines
from ._model import Model
from .estimators import CategoricalHMM, GaussianMixture

__all__ = [
    "Model",
    "CategoricalHMM",
    "GaussianMixture",
    "EmcError",
    "ModelError",
    "DataError",
    "ParamsError",
    "lines",
    "__version__",
]
