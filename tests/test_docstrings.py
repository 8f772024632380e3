"""numpydoc validation of every public docstring.

The public API is every class and function in the ``__all__`` of the package and of its
public subpackages, and the public methods and properties those classes define
themselves or inherit from a class of this package (methods inherited from scikit-learn,
torch or ``tuple`` are documented there).  Each object is validated with
``numpydoc.validate.validate``; the test lists every failing code with its message.
"""

import importlib
import inspect

import pytest
from numpydoc.validate import validate

MODULES = (
    "skrbm_impute",
    "skrbm_impute.masks",
    "skrbm_impute.metrics",
    "skrbm_impute.datasets",
    "skrbm_impute.experiment",
    "skrbm_impute.impute",
    "skrbm_impute.exceptions",
    "skrbm_impute.utils",
)

#: numpydoc codes not required of any object, and why.
IGNORED = {
    # An extended summary is optional: a one-line summary says all a simple function needs.
    "ES01",
    # "See Also" is optional: the user guide and the module docstrings link related names.
    "SA01",
    # scikit-learn's convention names a single returned value ("self : object",
    # "mask : ndarray of bool"); RT02 wants the type alone.
    "RT02",
}

#: Further codes not required of methods and properties: as in scikit-learn, the usage
#: example is on the class (EX01), not on each of its methods.
IGNORED_FOR_MEMBERS = IGNORED | {"EX01"}

#: The benchmark's functions run studies of minutes over results folders: their usage is
#: shown by the gallery and the user guide's benchmark page, not by a doctest (EX01).
IGNORED_FOR_BENCHMARK = IGNORED | {"EX01"}


def _own_member_names(cls):
    """Public members that ``cls`` defines or inherits from a class of this package."""
    fields = set(getattr(cls, "_fields", ()))  # NamedTuple fields: the class's Parameters
    for name in sorted(dir(cls)):
        if name.startswith("_") or name in fields:
            continue
        owner = next(klass for klass in cls.__mro__ if name in vars(klass))
        member = vars(owner)[name]
        if owner.__module__.startswith("skrbm_impute") and (
            callable(member) or isinstance(member, property)
        ):
            yield f"{owner.__module__}.{owner.__qualname__}.{name}"


def _public_objects():
    """``{import path: codes to ignore}`` for every public class, function and member."""
    objects = {}
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue  # constants: documented in the API page's prose
            path = f"{obj.__module__}.{obj.__qualname__}"
            objects[path] = (IGNORED_FOR_BENCHMARK if module_name == "skrbm_impute.experiment"
                             else IGNORED)
            if inspect.isclass(obj):
                for member_path in _own_member_names(obj):
                    objects.setdefault(member_path, IGNORED_FOR_MEMBERS)
    return objects


PUBLIC_OBJECTS = _public_objects()


def test_the_public_api_is_found():
    # A broken discovery would pass every docstring test vacuously.
    for expected in ("skrbm_impute.masks.make_mask",
                     "skrbm_impute.impute._rbm.LMRBMImputer",
                     "skrbm_impute.experiment._results.read_results",
                     "skrbm_impute.metrics._scorers.MaskedRMSEScorer.hide"):
        assert expected in PUBLIC_OBJECTS
    # Methods inherited from a private base class of the package are found too.
    for method in (".fit", ".transform", ".transform_hidden", ".sample_imputations"):
        assert any(path.endswith(method) for path in PUBLIC_OBJECTS), method
    assert not any(path.endswith((".get_params", ".set_params", ".count"))
                   for path in PUBLIC_OBJECTS)


@pytest.mark.parametrize("path", sorted(PUBLIC_OBJECTS))
def test_docstring_is_valid_numpydoc(path):
    ignored = PUBLIC_OBJECTS[path]
    errors = [f"{code}: {message}" for code, message in validate(path)["errors"]
              if code not in ignored]
    assert not errors, f"{path}:\n" + "\n".join(errors)
