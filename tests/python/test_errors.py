"""The exception hierarchy and the one Status -> exception translator."""

from __future__ import annotations

import pickle

import pandas as pd
import pytest

import bouncekit
from bouncekit import errors


@pytest.mark.parametrize("code,name,builtin", [
    (1, "CancelledError", RuntimeError),
    (3, "InvalidArgumentError", ValueError),
    (4, "DeadlineExceededError", TimeoutError),
    (5, "NotFoundError", KeyError),
    (6, "AlreadyExistsError", FileExistsError),
    (7, "PermissionDeniedError", PermissionError),
    (8, "ResourceExhaustedError", MemoryError),
    (9, "FailedPreconditionError", RuntimeError),
    (11, "OutOfRangeError", ValueError),
    (12, "UnimplementedError", NotImplementedError),
    (13, "InternalError", RuntimeError),
    (15, "DataLossError", OSError),
])
def test_one_class_per_status_code(code: int, name: str, builtin: type) -> None:
    cls = errors.error_for_code(code)
    assert cls.__name__ == name
    assert issubclass(cls, bouncekit.BouncekitError)
    assert issubclass(cls, builtin)
    assert cls.code == code
    assert getattr(bouncekit, name) is cls


def test_every_code_has_a_distinct_class() -> None:
    classes = {errors.error_for_code(c) for c in range(1, 17)}
    assert len(classes) == 16


def test_core_status_becomes_invalid_argument_with_message() -> None:
    with pytest.raises(bouncekit.InvalidArgumentError) as ei:
        bouncekit.parse_status("6.0.0")
    e = ei.value
    assert isinstance(e, ValueError)
    assert e.code == 3
    assert "class 6" in str(e)


def test_not_found_is_a_key_error_with_a_readable_message() -> None:
    with pytest.raises(KeyError) as ei:
        bouncekit.classify_one(diagnostic="x", profile="no-such-profile")
    assert isinstance(ei.value, bouncekit.NotFoundError)
    assert str(ei.value).startswith("unknown profile 'no-such-profile'")
    assert ei.value.field == "profile"


def test_rule_file_errors_carry_line_column_and_field() -> None:
    text = '[[rules]]\nid = "a"\ncategory = "user_unknown"\nclas = "hard"\n'
    with pytest.raises(bouncekit.InvalidArgumentError) as ei:
        bouncekit.load_rules(text=text)
    e = ei.value
    assert e.line == 4 and e.text_column == 8
    assert e.field == "clas"
    assert "unknown key 'clas'" in str(e)


def test_table_errors_carry_row_and_column() -> None:
    df = pd.DataFrame({"reply_code": [550, 550.5], "diagnostic": ["a", "b"]})
    with pytest.raises(bouncekit.InvalidArgumentError) as ei:
        bouncekit.classify(df)
    assert ei.value.row == 1
    assert ei.value.column == "reply_code"


def test_errors_pickle_with_their_attributes() -> None:
    e = bouncekit.InvalidArgumentError("bad", row=3, column="diagnostic")
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is bouncekit.InvalidArgumentError
    assert (e2.row, e2.column, str(e2)) == (3, "diagnostic", "bad")
