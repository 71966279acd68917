"""Rule sets: the built-in one and user rule files.

A rule set is data: an ordered list of rules, first match wins. The built-in
set lives in ``bouncekit/data/rules.toml``; users load their own from a TOML
file (the built-in format), a TSV file in the format of ``rules.tsv`` from the
benchmark spec, or a dict (for example read from JSON or YAML)::

    >>> import bouncekit
    >>> rs = bouncekit.load_rules(text='''
    ... [[rules]]
    ... id = "full"
    ... text = "mailbox (is )?full"
    ... category = "mailbox_full"
    ... ''')
    >>> len(rs)
    1
    >>> bouncekit.classify_one(diagnostic="452 Mailbox is full", rules=rs).category
    'mailbox_full'
"""

from __future__ import annotations

import functools
import os
from importlib import resources
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from . import _core

__all__ = ["RuleSet", "load_rules", "builtin_rules", "builtin_rules_path", "RulesLike"]

RuleSet = _core.RuleSet
RulesLike = Union[None, str, "os.PathLike[str]", "_core.RuleSet", Mapping[str, Any]]


def builtin_rules_path() -> Path:
    """Path of the built-in rule file shipped with the package."""
    return Path(str(resources.files("bouncekit") / "data" / "rules.toml"))


@functools.lru_cache(maxsize=1)
def builtin_rules() -> "_core.RuleSet":
    """The built-in rule set (parsed once per process)."""
    path = builtin_rules_path()
    return _core.RuleSet.parse(path.read_text(encoding="utf-8"), "rules.toml")


def load_rules(path: Union[str, "os.PathLike[str]", None] = None, *, text: Optional[str] = None,
               config: Optional[Mapping[str, Any]] = None) -> "_core.RuleSet":
    """Loads a rule set from a file (TOML or TSV), from text, or from a dict.

    Errors are :class:`bouncekit.InvalidArgumentError` with ``line``,
    ``text_column`` and ``field`` set where they are known.
    """
    given = sum(x is not None for x in (path, text, config))
    if given != 1:
        raise TypeError("load_rules() takes exactly one of path, text= or config=")
    if config is not None:
        return _core.RuleSet.from_config(dict(config), "")
    if text is not None:
        return _core.RuleSet.parse(text, "")
    p = Path(os.fspath(path))  # type: ignore[arg-type]
    if not p.exists():
        from .errors import NotFoundError
        raise NotFoundError(f"rule file not found: {p}", source=str(p))
    if p.suffix.lower() in (".json",):
        import json
        try:
            doc = json.loads(_read_text(p))
        except json.JSONDecodeError as e:
            from .errors import InvalidArgumentError
            raise InvalidArgumentError(f"{p}:{e.lineno}:{e.colno}: not valid JSON: {e.msg}", source=str(p),
                                       line=e.lineno, text_column=e.colno) from None
        return _core.RuleSet.from_config(doc, str(p))
    if p.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError as e:  # pragma: no cover - depends on the environment
            from .errors import UnimplementedError
            raise UnimplementedError("reading YAML rule files needs PyYAML (pip install pyyaml)") from e
        return _core.RuleSet.from_config(yaml.safe_load(_read_text(p)), str(p))
    return _core.RuleSet.parse(_read_text(p), str(p))


def _read_text(p: Path) -> str:
    """A rule file's text; InvalidArgumentError (with the line) when it is not UTF-8."""
    data = p.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        from .errors import InvalidArgumentError
        line = data.count(b"\n", 0, e.start) + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise InvalidArgumentError(f"{p}:{line}:{col}: rule files must be UTF-8; byte 0x{data[e.start]:02x} is not",
                                   source=str(p), line=line, text_column=col) from None


def resolve_rules(rules: RulesLike) -> "_core.RuleSet":
    if rules is None:
        return builtin_rules()
    if isinstance(rules, _core.RuleSet):
        return rules
    if isinstance(rules, Mapping):
        return load_rules(config=rules)
    return load_rules(rules)


@functools.lru_cache(maxsize=32)
def _builtin_classifier(profile: str, infer: Optional[bool]) -> "_core.Classifier":
    return _core.Classifier(builtin_rules(), profile, infer)


# Classifiers of loaded rule sets (immutable objects), by identity: a stream
# of batches classified with one RuleSet compiles it once, and its text DFA
# keeps the states it has built from batch to batch.
_CLASSIFIERS: Dict[Tuple[int, str, Optional[bool]], Tuple["_core.RuleSet", "_core.Classifier"]] = {}
_MAX_CLASSIFIERS = 16


def classifier_for(rules: RulesLike, profile: str, infer: Optional[bool]) -> "_core.Classifier":
    """A compiled classifier; the built-in rule set's are cached per profile,
    a loaded RuleSet's per object (the last 16)."""
    if rules is None:
        return _builtin_classifier(profile, infer)
    if isinstance(rules, _core.RuleSet):
        key = (id(rules), profile, infer)
        hit = _CLASSIFIERS.get(key)
        if hit is not None and hit[0] is rules:
            return hit[1]
        clf = _core.Classifier(rules, profile, infer)
        if len(_CLASSIFIERS) >= _MAX_CLASSIFIERS:
            _CLASSIFIERS.pop(next(iter(_CLASSIFIERS)), None)
        _CLASSIFIERS[key] = (rules, clf)  # holds the RuleSet: its id stays its own
        return clf
    return _core.Classifier(resolve_rules(rules), profile, infer)


def profiles(rules: RulesLike = None) -> List[Tuple[str, str]]:
    """(name, description) of every profile a rule set defines."""
    return list(resolve_rules(rules).profiles)


def rules_table(rules: RulesLike = None) -> List[Dict[str, Any]]:
    """The rules as a list of dicts (handy as ``pandas.DataFrame(rules_table())``)."""
    return list(resolve_rules(rules).rules())
