"""
bouncekit's compiled core (private; use the bouncekit package).
"""
from __future__ import annotations
import collections.abc
import typing
__all__: list[str] = ['BLAMES', 'BOUNCE_CLASSES', 'CODE_SOURCES', 'Classifier', 'CsvWriter', 'RuleSet', 'categories', 'find_codes_in_text', 'map_category', 'parse_reply_code', 'parse_status']
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
BLAMES: tuple = ('recipient', 'message', 'sender', 'infrastructure', 'unknown')
BOUNCE_CLASSES: tuple = ('delivered', 'soft', 'hard', 'block', 'complaint', 'auto_reply', 'undetermined')
CODE_SOURCES: tuple = ('none', 'given', 'text')
__version__: str = '0.1.0'
