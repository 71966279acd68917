"""
bouncekit's compiled core (private; use the bouncekit package).
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing
__all__: list[str] = ['BLAMES', 'BOUNCE_CLASSES', 'CODE_SOURCES', 'Classifier', 'CsvWriter', 'EVENT_CLASSES', 'History', 'MailLogReader', 'POLICY_ACTIONS', 'POLICY_CLASSES', 'POLICY_FLAG_ENGAGED', 'POLICY_FLAG_GREYLIST', 'POLICY_FLAG_MAILBOX_FULL', 'POLICY_FLAG_SENDER_BLAME', 'POLICY_INVALID_CLASS', 'POLICY_STATE_VERSION', 'ParquetFile', 'Policy', 'PolicyEngine', 'RetryCause', 'RetryDistribution', 'RetrySchedule', 'RuleSet', 'SUPPRESSION_REASONS', 'categories', 'find_codes_in_text', 'map_category', 'parse_emails', 'parse_esp_json', 'parse_maillog', 'parse_reply_code', 'parse_status', 'policy_from_config', 'policy_from_toml', 'retry_exact', 'retry_monte_carlo', 'retry_parse_exim_config', 'retry_select_exim_line', 'standard_policy', 'suppression_policies']
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
    def classify_arrow(self, batches: list, threads: typing.SupportsInt | typing.SupportsIndex = 1, spans: bool = False, outputs: typing.Any = None, allocate: typing.Any = None) -> dict:
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
    def __init__(self, path: str, header: collections.abc.Sequence[str], float_digits: typing.SupportsInt | typing.SupportsIndex = 12, durable: bool = False) -> None:
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
    def add_parquet(self, file: typing.Any, columns: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex], batch_rows: typing.SupportsInt | typing.SupportsIndex, read_threads: typing.SupportsInt | typing.SupportsIndex, first_group: typing.SupportsInt | typing.SupportsIndex = 0) -> int:
        """
        Adds row groups first_group.. of a ParquetFile (columns: the file's indices of recipient, campaign_id, ts, bounce_class), read and added without the GIL; returns the row group it stopped at (num_row_groups, or one the core's reader does not decode).
        """
    def finish(self, threads: typing.SupportsInt | typing.SupportsIndex = 1) -> dict:
        """
        Computes the results (once) as dicts of numpy arrays.
        """
    def finish_csv(self, threads: typing.SupportsInt | typing.SupportsIndex, suppressions_path: str, aggregates_path: str, float_digits: typing.SupportsInt | typing.SupportsIndex = 12, durable: bool = False) -> dict:
        """
        finish() with the tables written to CSV by the core ('' leaves one out); returns row counts.
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
    def rows_added(self) -> int:
        """
        Rows add_parquet has added so far (safe to read while it runs).
        """
    @property
    def rows_seen(self) -> int:
        ...
    @property
    def suppressions(self) -> bool:
        ...
class RetrySchedule:
    """
    A retry schedule (see bouncekit.retry).
    """
    @staticmethod
    def exim(rules: str, host_failing_for: typing.SupportsFloat | typing.SupportsIndex, queue_run_interval: typing.SupportsFloat | typing.SupportsIndex, queue_run_phase: typing.SupportsFloat | typing.SupportsIndex, retry_interval_max: typing.SupportsFloat | typing.SupportsIndex, line: typing.SupportsInt | typing.SupportsIndex = 1, first_column: typing.SupportsInt | typing.SupportsIndex = 1) -> RetrySchedule:
        ...
    @staticmethod
    def explicit(intervals: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], lifetime: typing.SupportsFloat | typing.SupportsIndex, max_attempts: typing.SupportsInt | typing.SupportsIndex, expiry: str) -> RetrySchedule:
        ...
    @staticmethod
    def exponential(initial: typing.SupportsFloat | typing.SupportsIndex, factor: typing.SupportsFloat | typing.SupportsIndex, cap: typing.SupportsFloat | typing.SupportsIndex, jitter: typing.SupportsFloat | typing.SupportsIndex, lifetime: typing.SupportsFloat | typing.SupportsIndex, max_attempts: typing.SupportsInt | typing.SupportsIndex, expiry: str) -> RetrySchedule:
        ...
    @staticmethod
    def fixed(interval: typing.SupportsFloat | typing.SupportsIndex, lifetime: typing.SupportsFloat | typing.SupportsIndex, max_attempts: typing.SupportsInt | typing.SupportsIndex, expiry: str) -> RetrySchedule:
        ...
    @staticmethod
    def postfix(queue_run_delay: typing.SupportsFloat | typing.SupportsIndex, minimal_backoff_time: typing.SupportsFloat | typing.SupportsIndex, maximal_backoff_time: typing.SupportsFloat | typing.SupportsIndex, maximal_queue_lifetime: typing.SupportsFloat | typing.SupportsIndex, queue_run_granularity: bool, scan_phase: typing.SupportsFloat | typing.SupportsIndex, whole_seconds: bool = False, clock_offset: typing.SupportsFloat | typing.SupportsIndex = 0.0) -> RetrySchedule:
        ...
    @staticmethod
    def preset(name: str) -> RetrySchedule:
        ...
    @staticmethod
    def preset_names() -> list[str]:
        ...
    def describe(self, max_lines: typing.SupportsInt | typing.SupportsIndex = 60) -> str:
        ...
    def sample(self, seed: typing.SupportsInt | typing.SupportsIndex) -> tuple[numpy.typing.NDArray[numpy.float64], float]:
        ...
    def set_name(self, name: str) -> None:
        ...
    @property
    def attempts(self) -> numpy.typing.NDArray[numpy.float64]:
        ...
    @property
    def deterministic(self) -> bool:
        ...
    @property
    def expire_time(self) -> float:
        ...
    @property
    def family(self) -> str:
        ...
    @property
    def give_up(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
class RetryDistribution:
    """
    A recovery-time distribution (seconds).
    """
    @staticmethod
    def exponential(mean: typing.SupportsFloat | typing.SupportsIndex) -> RetryDistribution:
        ...
    @staticmethod
    def fixed(value: typing.SupportsFloat | typing.SupportsIndex) -> RetryDistribution:
        ...
    @staticmethod
    def lognormal(median: typing.SupportsFloat | typing.SupportsIndex, sigma: typing.SupportsFloat | typing.SupportsIndex) -> RetryDistribution:
        ...
    @staticmethod
    def mixture(weights: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], parts: collections.abc.Sequence[RetryDistribution]) -> RetryDistribution:
        ...
    @staticmethod
    def weibull(shape: typing.SupportsFloat | typing.SupportsIndex, scale: typing.SupportsFloat | typing.SupportsIndex) -> RetryDistribution:
        ...
    def __repr__(self) -> str:
        ...
    def cdf(self, x: typing.Annotated[numpy.typing.ArrayLike, numpy.float64]) -> numpy.typing.NDArray[numpy.float64]:
        ...
    def sample(self, n: typing.SupportsInt | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex) -> numpy.typing.NDArray[numpy.float64]:
        ...
    @property
    def mean(self) -> float:
        ...
class RetryCause:
    """
    Why a message's first attempt failed, and when it stops failing.
    """
    @staticmethod
    def default(category: str) -> RetryCause:
        ...
    @staticmethod
    def default_categories() -> list[str]:
        ...
    @staticmethod
    def greylist(name: str, delay: typing.SupportsFloat | typing.SupportsIndex, retry_window: typing.SupportsFloat | typing.SupportsIndex, never_share: typing.SupportsFloat | typing.SupportsIndex) -> RetryCause:
        ...
    @staticmethod
    def recovery(name: str, recovery: RetryDistribution, never_share: typing.SupportsFloat | typing.SupportsIndex) -> RetryCause:
        ...
    @staticmethod
    def throttle(name: str, allowed_rate: typing.SupportsFloat | typing.SupportsIndex, send_rate: typing.SupportsFloat | typing.SupportsIndex, never_share: typing.SupportsFloat | typing.SupportsIndex) -> RetryCause:
        ...
    def __repr__(self) -> str:
        ...
    def renamed(self, name: str) -> RetryCause:
        ...
    @property
    def kind(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def never_share(self) -> float:
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
class MailLogReader:
    """
    parse_maillog for a log read in batches: the queues seen (sender, message id) are kept from one batch to the next (at most max_queues, the most recent).
    """
    def __init__(self, format: str = 'auto', max_queues: typing.SupportsInt | typing.SupportsIndex = 1048576) -> None:
        ...
    def parse(self, lines: list) -> dict:
        """
        The next batch of lines; returns what parse_maillog returns.
        """
    @property
    def queues(self) -> int:
        """
        Queues kept now.
        """
class ParquetFile:
    def __init__(self, path: str) -> None:
        ...
    def columns(self) -> list:
        ...
    def pool_stats(self) -> tuple:
        ...
    def read(self, row_group: typing.SupportsInt | typing.SupportsIndex, column: typing.SupportsInt | typing.SupportsIndex, prefer_dictionary: bool = False) -> dict:
        ...
    def row_group_rows(self, row_group: typing.SupportsInt | typing.SupportsIndex) -> int:
        ...
    @property
    def num_row_groups(self) -> int:
        ...
    @property
    def num_rows(self) -> int:
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
def parse_emails(records: list, max_bytes: typing.SupportsInt | typing.SupportsIndex = 33554432, max_recipients: typing.SupportsInt | typing.SupportsIndex = 10000, name_base: typing.SupportsInt | typing.SupportsIndex = -1) -> dict:
    """
    Parses bounce e-mails (bytes); returns {'events': columns, 'errors': columns, ...}. With name_base >= 0 both tables start with a column 'source', '<input>[name_base + record]'.
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
def policy_from_config(config: typing.Any, source: str = '') -> Policy:
    """
    Reads and validates a policy from plain data (a dict as read from JSON/YAML/TOML).
    """
def policy_from_toml(text: str, source: str = '') -> Policy:
    """
    Reads and validates a policy from TOML text.
    """
def retry_exact(schedule: RetrySchedule, causes: collections.abc.Sequence[RetryCause], weights: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex]) -> dict:
    ...
def retry_monte_carlo(schedule: RetrySchedule, causes: collections.abc.Sequence[RetryCause], weights: collections.abc.Sequence[typing.SupportsFloat | typing.SupportsIndex], messages: typing.SupportsInt | typing.SupportsIndex, seed: typing.SupportsInt | typing.SupportsIndex, threads: typing.SupportsInt | typing.SupportsIndex) -> dict:
    ...
def retry_parse_exim_config(text: str) -> list:
    ...
def retry_select_exim_line(text: str, domain: str, error: str, local_part: str) -> int:
    ...
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
