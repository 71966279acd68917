"""bouncekit: understand email bounces at scale.

Classify SMTP delivery results (reply code + RFC 3463 status + diagnostic
text) into a class, a reason category and who is to blame, explained by the
rule that matched; fast, over tables of 10^8 rows.

>>> import bouncekit
>>> bouncekit.classify_one(diagnostic="550 5.7.1 Service unavailable; client host blocked "
...                        "using zen.spamhaus.org").bounce_class
'block'
"""

from __future__ import annotations

from . import _core
from .classify import (
    INPUT_COLUMNS,
    MAPPINGS,
    Classification,
    StatusCode,
    categories,
    classify,
    classify_one,
    find_codes,
    parse_status,
    to_ses,
    to_sisimai,
    to_sparkpost,
)
from .errors import (
    AbortedError,
    AlreadyExistsError,
    BouncekitError,
    CancelledError,
    DataLossError,
    DeadlineExceededError,
    FailedPreconditionError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    OutOfRangeError,
    PermissionDeniedError,
    ResourceExhaustedError,
    UnauthenticatedError,
    UnavailableError,
    UnimplementedError,
    UnknownError,
)
from . import sample
from . import retry
from .history import (
    AGGREGATE_COLUMNS,
    HISTORY_COLUMNS,
    SUPPRESSION_COLUMNS,
    SUPPRESSION_POLICIES,
    SUPPRESSION_REASONS,
    BounceHistory,
    HistoryFiles,
    HistoryResult,
    aggregate,
    analyze_history,
    suppress,
    write_history_csv,
)
from .io import CsvWriter, write_csv
from .policy import PRESETS as POLICY_PRESETS, Analysis, Policy, PolicyRunner, Rule, analyze, load_policy
from . import risk
from .parse import ParseResult, parse_emails, parse_esp_json, parse_maillog
from .rules import RuleSet, builtin_rules, builtin_rules_path, load_rules, profiles, rules_table

__version__: str = _core.__version__

#: Bounce classes, in the order of their integer codes.
BOUNCE_CLASSES = tuple(_core.BOUNCE_CLASSES)
#: Blame values.
BLAMES = tuple(_core.BLAMES)

__all__ = [
    "__version__",
    "POLICY_PRESETS",
    "Analysis",
    "Policy",
    "PolicyRunner",
    "Rule",
    "analyze",
    "load_policy",
    "risk",
    "BOUNCE_CLASSES",
    "BLAMES",
    "INPUT_COLUMNS",
    "MAPPINGS",
    "Classification",
    "StatusCode",
    "RuleSet",
    "categories",
    "classify",
    "classify_one",
    "find_codes",
    "parse_status",
    "to_sisimai",
    "to_ses",
    "to_sparkpost",
    "load_rules",
    "builtin_rules",
    "builtin_rules_path",
    "profiles",
    "rules_table",
    "sample",
    "retry",
    "suppress",
    "aggregate",
    "analyze_history",
    "write_history_csv",
    "BounceHistory",
    "HistoryResult",
    "HistoryFiles",
    "HISTORY_COLUMNS",
    "SUPPRESSION_POLICIES",
    "SUPPRESSION_REASONS",
    "SUPPRESSION_COLUMNS",
    "AGGREGATE_COLUMNS",
    "write_csv",
    "parse_emails",
    "parse_maillog",
    "parse_esp_json",
    "ParseResult",
    "CsvWriter",
    "BouncekitError",
    "CancelledError",
    "UnknownError",
    "InvalidArgumentError",
    "DeadlineExceededError",
    "NotFoundError",
    "AlreadyExistsError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "FailedPreconditionError",
    "AbortedError",
    "OutOfRangeError",
    "UnimplementedError",
    "InternalError",
    "UnavailableError",
    "DataLossError",
    "UnauthenticatedError",
]
