"""
bouncekit's compiled core (private; use the bouncekit package).
"""
from __future__ import annotations
import collections.abc
import typing
__all__: list[str] = ['BLAMES', 'BOUNCE_CLASSES', 'CODE_SOURCES', 'Classifier', 'CsvWriter', 'EVENT_CLASSES', 'History', 'POLICY_ACTIONS', 'POLICY_CLASSES', 'POLICY_FLAG_ENGAGED', 'POLICY_FLAG_GREYLIST', 'POLICY_FLAG_MAILBOX_FULL', 'POLICY_FLAG_SENDER_BLAME', 'POLICY_INVALID_CLASS', 'POLICY_STATE_VERSION', 'Policy', 'PolicyEngine', 'RuleSet', 'SUPPRESSION_REASONS', 'categories', 'find_codes_in_text', 'map_category', 'parse_reply_code', 'parse_status', 'policy_from_config', 'policy_from_toml', 'standard_policy', 'suppression_policies']
class RuleSet:
    """
    An ordered classification rule set (see rules.h for the format).
    """
    @staticmethod
    def from_config(config: typing.Any, source: str = '') -> RuleSet:
        """
        Builds a rule set from a dict with the TOML file's structure.
        """
    @staticmethod
    def parse(text: str, source: str = '') -> RuleSet:
        """
        Parses a TOML or TSV rule file's text.
        """
    def __len__(self) -> int:
        ...
    def rules(self) -> list:
        """
        The rules as dicts, in order.
        """
    @property
    def description(self) -> str:
        ...
    @property
    def infer_codes_from_text(self) -> bool:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def profiles(self) -> list[tuple[str, str]]:
        ...
    @property
    def version(self) -> str:
        ...
class Classifier:
    """
    A compiled rule set + profile.
    """
    def __init__(self, rules: RuleSet, profile: str = 'default', infer_codes_from_text: bool | None = None) -> None:
        ...
    def category_details(self) -> list[tuple[str, str]]:
        ...
    def classify_arrow(self, batches: list, threads: typing.SupportsInt | typing.SupportsIndex = 1, spans: bool = False) -> dict:
        ...
    def classify_one(self, reply_code: typing.Any = None, enhanced_status: typing.Any = None, diagnostic: typing.Any = None, smtp_command: typing.Any = None, remote_host: typing.Any = None, action: typing.Any = None, destination: typing.Any = None) -> dict:
        ...
    def mapping(self, category: typing.SupportsInt | typing.SupportsIndex, bounce_class: typing.SupportsInt | typing.SupportsIndex, reply_class: typing.SupportsInt | typing.SupportsIndex) -> tuple:
        ...
    @property
    def category_names(self) -> list[str]:
        ...
    @property
    def class_labels(self) -> list[str]:
        ...
    @property
    def infer_codes_from_text(self) -> bool:
        ...
    @property
    def profile(self) -> str:
        ...
    @property
    def rule_explanations(self) -> list[str]:
        ...
    @property
    def rule_ids(self) -> list[str]:
        ...
class CsvWriter:
    """
    Writes Arrow columns as CSV to a temporary file, renamed on commit().
    """
    def __init__(self, path: str, header: collections.abc.Sequence[str], float_digits: typing.SupportsInt | typing.SupportsIndex = 12) -> None:
        ...
    def abort(self) -> None:
        ...
    def commit(self) -> None:
        ...
    def write(self, columns: list, num_rows: typing.SupportsInt | typing.SupportsIndex) -> None:
        ...
    @property
    def rows_written(self) -> int:
        ...
class History:
    """
    Accumulates bounce events batch by batch; finish() gives the suppression list (W2) and the campaign x domain aggregates (W3).
    """
    def __init__(self, policy: str = 'standard', suppressions: bool = True, aggregates: bool = True, threads: typing.SupportsInt | typing.SupportsIndex = 1) -> None:
        """
        threads: threads that ingest each batch (1, 2, 4 or 8); results do not depend on it.
        """
    def add(self, columns: dict, num_rows: typing.SupportsInt | typing.SupportsIndex) -> None:
        """
        Adds the next rows: a dict of Arrow capsule pairs (recipient, campaign_id and ts as int64, bounce_class) or bounce_class_codes as a uint8 array of EVENT_CLASSES indices.
        """
    def finish(self, threads: typing.SupportsInt | typing.SupportsIndex = 1) -> dict:
        """
        Computes the results (once) as dicts of numpy arrays.
        """
    @property
    def aggregates(self) -> bool:
        ...
    @property
    def memory_usage(self) -> int:
        ...
    @property
    def policy(self) -> str:
        ...
    @property
    def recipients(self) -> int:
        ...
    @property
    def rows_seen(self) -> int:
        ...
    @property
    def suppressions(self) -> bool:
        ...
class Policy:
    """
    A validated declarative suppression policy.
    """
    def to_dict(self) -> dict:
        """
        The policy as plain data (durations in hours/days).
        """
    @property
    def fingerprint(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
class PolicyEngine:
    """
    Applies a policy to events, run by run; state can be saved.
    """
    @staticmethod
    def from_state_bytes(policy: Policy, data: bytes) -> PolicyEngine:
        ...
    @staticmethod
    def load_state(policy: Policy, path: str) -> PolicyEngine:
        """
        Resumes from a state file saved with the same policy.
        """
    def __init__(self, policy: Policy) -> None:
        ...
    def add(self, columns: dict, num_rows: typing.SupportsInt | typing.SupportsIndex) -> None:
        """
        Buffers rows: recipient, campaign_id, ts (Arrow capsule pairs), klass and optional flags (uint8).
        """
    def decision_of(self, recipient: str) -> dict:
        """
        One recipient's decision (0 or 1 rows).
        """
    def decisions(self) -> dict:
        """
        Current decisions, sorted by recipient.
        """
    def features(self) -> dict:
        """
        Per-recipient counters, sorted by recipient.
        """
    def features_of(self, recipient: str) -> dict:
        """
        One recipient's counters.
        """
    def run(self) -> None:
        """
        Walks the buffered rows into the per-recipient state.
        """
    def save_state(self, path: str) -> None:
        """
        Saves the state atomically.
        """
    def state_bytes(self) -> bytes:
        """
        The state file's bytes.
        """
    def summary(self) -> dict:
        """
        Rows in, used, skipped by reason.
        """
    @property
    def policy(self) -> Policy:
        ...
def categories() -> list:
    """
    The built-in category taxonomy, in documentation order.
    """
def find_codes_in_text(text: typing.Any) -> dict:
    """
    Finds the reply code and enhanced status that a diagnostic text reports.
    """
def map_category(category: str, bounce_class: str, reply_class: typing.SupportsInt | typing.SupportsIndex = 0) -> tuple[str, str, str, int]:
    """
    (Sisimai reason, SES type, SES subtype, SparkPost class) of a built-in category.
    """
def parse_reply_code(text: str) -> int | None:
    """
    Parses a three-digit reply code (200..599); None for anything else.
    """
def parse_status(text: str) -> dict:
    """
    Strictly parses an RFC 3463 status 'class.subject.detail'; raises InvalidArgumentError.
    """
def policy_from_config(config: typing.Any, source: str = '') -> Policy:
    """
    Reads and validates a policy from plain data (a dict as read from JSON/YAML/TOML).
    """
def policy_from_toml(text: str, source: str = '') -> Policy:
    """
    Reads and validates a policy from TOML text.
    """
def standard_policy() -> Policy:
    """
    SPEC.md W2 as a declarative policy.
    """
def suppression_policies() -> list[str]:
    """
    Names of the built-in suppression policies.
    """
BLAMES: tuple = ('recipient', 'message', 'sender', 'infrastructure', 'unknown')
BOUNCE_CLASSES: tuple = ('delivered', 'soft', 'hard', 'block', 'complaint', 'auto_reply', 'undetermined')
CODE_SOURCES: tuple = ('none', 'given', 'text')
EVENT_CLASSES: tuple = ('other', 'delivered', 'soft', 'hard', 'block')
POLICY_ACTIONS: tuple = ('none', 'monitor', 'pause', 'suppress')
POLICY_CLASSES: tuple = ('other', 'delivered', 'soft', 'hard', 'block', 'complaint')
POLICY_FLAG_ENGAGED: int = 4
POLICY_FLAG_GREYLIST: int = 1
POLICY_FLAG_MAILBOX_FULL: int = 8
POLICY_FLAG_SENDER_BLAME: int = 2
POLICY_INVALID_CLASS: int = 255
POLICY_STATE_VERSION: int = 1
SUPPRESSION_REASONS: tuple = ('hard_bounce', 'soft_streak', 'soft_window')
__version__: str = '0.1.0'
