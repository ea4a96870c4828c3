import os

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(ROOT, "models")


@pytest.fixture
def models():
    return MODELS


def model_path(name):
    return os.path.join(MODELS, name)
