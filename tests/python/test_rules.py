"""Rule files: formats, errors, and rules.tsv reproducing the W1 oracle."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import bouncekit


def test_builtin_rules_load_with_profiles() -> None:
    rs = bouncekit.builtin_rules()
    assert len(rs) > 100
    names = [p for p, _ in rs.profiles]
    assert names[:5] == ["default", "sisimai", "ses", "strict_rfc", "mailgun"]
    assert rs.infer_codes_from_text


def test_every_builtin_rule_explains_itself_and_has_a_known_category() -> None:
    cats = set(bouncekit.categories()["name"])
    for r in bouncekit.rules_table():
        assert r["why"], r["id"]
        assert r["category"] in cats, r["id"]


def test_taxonomy_is_documented_and_at_least_as_fine_as_sisimai(shared_dir: Path) -> None:
    cats = bouncekit.categories()
    assert cats["name"].is_unique
    readme = (shared_dir / "corpora" / "sisimai" / "README.md").read_text()
    section = readme.split("## Reason names (Sisimai 5)")[1]
    import re
    words = [t.strip().split(" ")[0].strip(".") for t in re.split(r"[,;:]", section.replace("\n", " "))]
    reasons = {w for w in words if w.isalpha() and w.islower() and w not in ("and", "not")}
    assert {"userunknown", "mailboxfull", "authfailure", "vacation"} <= reasons
    # Each Sisimai reason is reached by at least one category (many-to-one the other way).
    assert reasons <= set(cats["sisimai_reason"]) | {"onhold"}, reasons - set(cats["sisimai_reason"])
    assert len(cats) >= 34
    # The seeds' causes and Mailpro's soft kinds each have a category.
    for name in ["mailbox_full", "server_unavailable", "greylisted", "message_too_large", "rate_limited",
                 "tls_required", "security_policy", "user_unknown", "bad_domain", "blocklisted",
                 "spam_content", "auth_failure", "no_answer_from_host", "bad_connection", "protocol_error",
                 "routing_error", "bad_configuration", "content_rejected", "sender_rejected", "expired",
                 "policy", "virus"]:
        assert name in set(cats["name"]), name


def test_toml_text_dict_and_json_give_the_same_rules(tmp_path: Path) -> None:
    text = '''
[ruleset]
name = "mine"
[profiles.strict]
class_from_reply_code = true
[[rules]]
id = "full"
code = ["45x", "55x"]
text = 'mailbox (is )?full'
category = "mailbox_full"
[[rules]]
id = "rest"
category = "undetermined"
'''
    a = bouncekit.load_rules(text=text)
    import tomllib
    b = bouncekit.load_rules(config=tomllib.loads(text))
    p = tmp_path / "r.json"
    p.write_text(json.dumps(tomllib.loads(text)))
    c = bouncekit.load_rules(p)
    for rs in (a, b, c):
        assert rs.name == "mine"
        assert [r["id"] for r in rs.rules()] == ["full", "rest"]
        assert bouncekit.classify_one(552, None, "552 Mailbox is full", rules=rs, profile="strict").bounce_class == "hard"
        assert bouncekit.classify_one(452, None, "452 Mailbox is full", rules=rs, profile="strict").bounce_class == "soft"


@pytest.mark.parametrize("text,field,line,fragment", [
    ('[[rules]]\nid = "a"\ncategory = "user_unknown"\ntext = "(unclosed"\n', "text", 4, "not a valid RE2 regex"),
    ('[[rules]]\nid = "a"\ncategory = "user_unknown"\nclass = "firm"\n', "class", 4, "unknown class 'firm'"),
    ('[[rules]]\nid = "a"\ncategory = "my_cat"\n', "class", 1, "not built in"),
    ('[[rules]]\nid = "a"\ncategory = "user_unknown"\ncode = "5x1"\n', "code", 4, "bad reply-code pattern"),
    ('[[rules]]\nid = "a"\ncategory = "user_unknown"\nstatus = "5.1.1.1"\n', "status", 4, "bad status pattern"),
    ('[[rules]]\nid = "a"\ncategory = "user_unknown"\n[[rules]]\nid = "a"\ncategory = "user_unknown"\n',
     "id", 5, "duplicate rule id"),
    ('[[rules]]\nid = "a"\ncategory = "user_unknown"\nprofiles = ["nope"]\n', "profiles", 1, "unknown profile 'nope'"),
    ('[profiles.x]\nclasses = { not_a_category = "hard" }\n[[rules]]\nid = "a"\ncategory = "user_unknown"\n',
     "not_a_category", 2, "unknown category"),
    ('[[rules]]\nid = "a"\ncategory = "user_unknown"\nwhy = "x\n', None, 4, "unterminated string"),
    ('[ruleset]\nnam = "x"\n[[rules]]\nid = "a"\ncategory = "user_unknown"\n', "nam", 2, "unknown [ruleset] key"),
])
def test_rule_file_errors(text: str, field: object, line: int, fragment: str) -> None:
    with pytest.raises(bouncekit.InvalidArgumentError) as ei:
        bouncekit.load_rules(text=text)
    e = ei.value
    assert fragment in str(e)
    assert e.line == line
    if field is not None:
        assert e.field == field


def test_tsv_errors_name_line_and_column() -> None:
    bad = "rule_id\tcode\tstatus\tdiag_regex\tbounce_class\tcategory\tcolour\n1\t\t\t\tsoft\tx\t\n"
    with pytest.raises(bouncekit.InvalidArgumentError) as ei:
        bouncekit.load_rules(text=bad)
    assert ei.value.field == "colour" and ei.value.line == 1
    bad = "rule_id\tcode\tstatus\tdiag_regex\tbounce_class\tcategory\n1\t4xx\t\t(\tsoft\tx\n"
    with pytest.raises(bouncekit.InvalidArgumentError) as ei:
        bouncekit.load_rules(text=bad)
    assert ei.value.field == "text" and ei.value.line == 2


def test_missing_rule_file() -> None:
    with pytest.raises(bouncekit.NotFoundError):
        bouncekit.load_rules("/nonexistent/rules.toml")


def _read_csv_rows(path: Path) -> list:
    import csv
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_rules_tsv_reproduces_the_hand_made_w1_cases(bench_dir: Path, tmp_path: Path) -> None:
    rs = bouncekit.load_rules(bench_dir / "rules.tsv")
    assert len(rs) == 37 and not rs.infer_codes_from_text
    rows = _read_csv_rows(bench_dir / "tests" / "w1_cases.csv")
    header, data = rows[0], rows[1:]
    table = pa.table({
        "reply_code": pa.array([int(r[header.index("reply_code")]) for r in data], pa.int16()),
        "enhanced_status": [r[header.index("enhanced_status")] for r in data],
        "diagnostic": [r[header.index("diagnostic")] for r in data],
    })
    out = bouncekit.classify(table, rules=rs, output="arrow").select(["bounce_class", "category", "rule_id"])
    bouncekit.write_csv(out, tmp_path / "w1.csv")
    assert (tmp_path / "w1.csv").read_bytes() == (bench_dir / "tests" / "w1_cases.expected_w1.csv").read_bytes()


@pytest.mark.slow
def test_rules_tsv_reproduces_w1_oracle_byte_for_byte_on_1e6_rows(bench_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "ev.parquet"
    subprocess.run([sys.executable, str(bench_dir / "gen_events.py"), "--rows", "1000000", "--seed", "11",
                    "--out", str(data)], check=True, capture_output=True)
    ref = tmp_path / "ref.csv"
    subprocess.run([sys.executable, str(bench_dir / "w1_python_re.py"), "--in", str(data), "--out", str(ref)],
                   check=True, capture_output=True)
    t = pq.read_table(data, columns=["reply_code", "enhanced_status", "diagnostic"])
    rs = bouncekit.load_rules(bench_dir / "rules.tsv")
    out = bouncekit.classify(t, rules=rs, output="arrow", threads=2)
    mine = tmp_path / "mine.csv"
    bouncekit.write_csv(out.select(["bounce_class", "category", "rule_id"]), mine)
    assert mine.read_bytes() == ref.read_bytes()
    # The generator's truth column is reproduced too (SPEC section 6).
    truth = t.num_rows == out.num_rows
    assert truth
    gen_class = pq.read_table(data, columns=["bounce_class"]).column(0).to_pylist()
    assert out.column("bounce_class").cast(pa.string()).to_pylist() == gen_class


def test_a_loaded_rule_set_is_compiled_once_per_profile(shared_dir: Path) -> None:
    from bouncekit import rules as rules_mod
    rs = bouncekit.load_rules(shared_dir / "bench" / "rules.tsv")
    first = rules_mod.classifier_for(rs, "default", None)
    assert rules_mod.classifier_for(rs, "default", None) is first
    assert rules_mod.classifier_for(rs, "default", True) is not first
    other = bouncekit.load_rules(shared_dir / "bench" / "rules.tsv")  # equal text, another object
    assert rules_mod.classifier_for(other, "default", None) is not first
    # The cached classifier gives what a fresh one gives, batch after batch.
    t = pa.table({"reply_code": [550, 250, 451], "enhanced_status": ["5.1.1", "2.0.0", ""],
                  "diagnostic": ["user unknown", "ok", "greylisted, try later"]})
    a = bouncekit.classify(t, rules=rs, output="arrow")
    b = bouncekit.classify(t, rules=rs, output="arrow")
    assert a.equals(b)
    assert a.column("rule_id").to_pylist() == ["23", "1", "2"]
