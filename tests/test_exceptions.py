"""Every warning skprivacy emits can be filtered by its own class."""

import inspect

import pytest

from skprivacy import exceptions


@pytest.mark.parametrize("name", exceptions.__all__)
def test_warning_classes_share_one_base(name):
    cls = getattr(exceptions, name)
    assert inspect.isclass(cls)
    assert issubclass(cls, exceptions.SkprivacyWarning)
    assert issubclass(cls, UserWarning)
