"""
bouncekit's compiled core (private; use the bouncekit package).
"""
from __future__ import annotations
import collections.abc
import typing
__all__: list[str] = ['BLAMES', 'BOUNCE_CLASSES', 'CODE_SOURCES', 'Classifier', 'CsvWriter', 'EVENT_CLASSES', 'History', 'RuleSet', 'SUPPRESSION_REASONS', 'categories', 'find_codes_in_text', 'map_category', 'parse_emails', 'parse_esp_json', 'parse_maillog', 'parse_reply_code', 'parse_status', 'suppression_policies']
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
def parse_emails(records: list, max_bytes: typing.SupportsInt | typing.SupportsIndex = 33554432, max_recipients: typing.SupportsInt | typing.SupportsIndex = 10000) -> dict:
    """
    Parses bounce e-mails (bytes); returns {'events': columns, 'errors': columns, ...}.
    """
def parse_esp_json(records: list, provider: str = 'auto') -> dict:
    """
    Parses ESP JSON events (one JSON document per record).
    """
def parse_maillog(lines: list, format: str = 'auto') -> dict:
    """
    Parses Postfix / Exim log lines (format 'auto', 'postfix' or 'exim').
    """
def parse_reply_code(text: str) -> int | None:
    """
    Parses a three-digit reply code (200..599); None for anything else.
    """
def parse_status(text: str) -> dict:
    """
    Strictly parses an RFC 3463 status 'class.subject.detail'; raises InvalidArgumentError.
    """
def suppression_policies() -> list[str]:
    """
    Names of the built-in suppression policies.
    """
BLAMES: tuple = ('recipient', 'message', 'sender', 'infrastructure', 'unknown')
BOUNCE_CLASSES: tuple = ('delivered', 'soft', 'hard', 'block', 'complaint', 'auto_reply', 'undetermined')
CODE_SOURCES: tuple = ('none', 'given', 'text')
EVENT_CLASSES: tuple = ('other', 'delivered', 'soft', 'hard', 'block')
SUPPRESSION_REASONS: tuple = ('hard_bounce', 'soft_streak', 'soft_window')
__version__: str = '0.1.0'
