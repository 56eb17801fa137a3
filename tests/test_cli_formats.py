"""One rule per format question, the same in every format and on every path: a key named twice
is refused, a UTF-8 BOM is accepted, numbers are written in ASCII digits."""

from __future__ import annotations

import json
import re

import pytest

from cli_support import PAYOUTS, POLICY, leftovers, read_payouts, run, scenario, settle_args
from tuishou import InvalidArgumentError, InvalidPolicyError, Policy, load_policy
from tuishou.money import check_rate

BOM = b"\xef\xbb\xbf"
POLICY_JSON = load_policy(POLICY).model_dump_json()


# ----------------------------------------------------------------------- repeated keys


@pytest.mark.parametrize("file", ["orders", "members"])
def test_a_json_lines_key_named_twice_is_refused(tmp_path, capsys, file):
    paths = scenario(tmp_path, ".jsonl")
    lines = paths[file].read_text(encoding="utf-8").splitlines()
    lines[1] = (
        lines[1][:-1] + ', "tier": "member"}'
        if file == "members"
        else lines[1][:-1] + ', "amount": 5}'
    )
    paths[file].write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = run(capsys, *settle_args(paths, tmp_path / "payouts.csv"))
    assert code == 2
    value = "'senior_advisor', then 'member'" if file == "members" else "99900, then 5"
    key = "tier" if file == "members" else "amount"
    assert (
        f"{paths[file]}: each line must be one JSON object: line 2: the key {key!r} "
        f"appears twice in one object ({value})" in err
    )
    assert leftovers(tmp_path) == []


def policy_text(**replace):
    text = POLICY_JSON
    for old, new in replace.items():
        text = text.replace(old, new, 1)
    return text


@pytest.mark.parametrize(
    ("suffix", "text", "message"),
    [
        (
            ".json",
            policy_text(**{'"xiaomi":"0.05"': '"xiaomi":"0.05","xiaomi":"0.5"'}),
            "invalid JSON: the key 'xiaomi' appears twice in one object ('0.05', then '0.5')",
        ),
        (
            ".json",
            policy_text(**{'"self_purchase":true': '"self_purchase":true,"self_purchase":false'}),
            "invalid JSON: the key 'self_purchase' appears twice in one object (True, then False)",
        ),
        (
            ".toml",
            POLICY.read_text(encoding="utf-8").replace(
                'xiaomi = "0.05"', 'xiaomi = "0.05"\nxiaomi = "0.5"', 1
            ),
            "not valid TOML: Cannot overwrite a value",
        ),
    ],
)
def test_a_policy_key_named_twice_is_refused(tmp_path, capsys, suffix, text, message):
    assert text != POLICY_JSON
    path = tmp_path / f"policy{suffix}"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidPolicyError, match="^" + re.escape(f"{path}: {message}")):
        load_policy(path)
    code, _, err = run(capsys, "validate", "--policy", str(path))
    assert code == 2
    assert err.startswith(f"tuishou: error: {path}: {message}")


# ------------------------------------------------------------------------------- BOM


@pytest.mark.parametrize("file", ["orders.csv", "orders.jsonl", "policy.toml", "policy.json"])
def test_a_bom_is_accepted_in_every_text_format(tmp_path, capsys, file):
    paths = scenario(tmp_path, "." + file.split(".")[1] if file.startswith("orders") else ".csv")
    if file == "policy.json":
        paths["policy"] = tmp_path / file
        paths["policy"].write_text(POLICY_JSON, encoding="utf-8")
    target = paths["orders"] if file.startswith("orders") else paths["policy"]
    target.write_bytes(BOM + target.read_bytes())
    out = tmp_path / "payouts.csv"
    code, _, err = run(capsys, *settle_args(paths, out))
    assert code == 0, err
    assert read_payouts(out) == PAYOUTS


def test_a_policy_that_is_not_utf8_is_named(tmp_path, capsys):
    path = tmp_path / "policy.toml"
    path.write_bytes(POLICY.read_text(encoding="utf-8").replace("youpin", "有品").encode("gbk"))
    with pytest.raises(InvalidPolicyError, match="is not UTF-8 text; save it as UTF-8"):
        load_policy(path)
    assert run(capsys, "validate", "--policy", str(path))[0] == 2


# ------------------------------------------------------------------------------ digits


def test_full_width_digits_are_refused_in_rates_on_every_path(tmp_path, capsys):
    message = "rate='０.０５' is not written in ASCII digits; write '0.05'"
    with pytest.raises(InvalidArgumentError, match=message):
        check_rate("０.０５")
    data = json.loads(POLICY_JSON)
    data["group_rates"]["xiaomi"] = "０.０５"
    with pytest.raises(InvalidPolicyError, match=f"group_rates.xiaomi: {message}"):
        Policy.model_validate(data)
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    code, _, err = run(capsys, "validate", "--policy", str(path))
    assert code == 2
    assert f"group_rates.xiaomi: {message}" in err


@pytest.mark.parametrize(
    ("rate", "message"),
    [
        ("٠.٠٥", "rate='٠.٠٥' is not a number"),  # Decimal() alone would read Arabic-Indic digits
        ("0.0５", "rate='0.0５' is not written in ASCII digits; write '0.05'"),
        ("五", "rate='五' is not a number"),
    ],
)
def test_other_non_ascii_numbers_are_refused_in_rates(rate, message):
    with pytest.raises(InvalidArgumentError, match=f"^{re.escape(message)}$"):
        check_rate(rate)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["demo", "--members", "５"],
            "Invalid value for '--members': members='５' is not written in ASCII digits; write '5'",
        ),
        (
            ["demo", "--seed", "７"],
            "Invalid value for '--seed': seed='７' is not written in ASCII digits; write '7'",
        ),
    ],
)
def test_full_width_digits_are_refused_in_options(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert message in err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        (
            "--probation-days",
            "９０",
            "probation_days='９０' is not written in ASCII digits; write '90'",
        ),
        (
            "--as-of",
            "２０２６-11-24",
            "as_of='２０２６-11-24' is not written in ASCII digits; write '2026-11-24'",
        ),
    ],
)
def test_full_width_digits_are_refused_in_migrate_options(tmp_path, capsys, option, value, message):
    from test_cli_migrate import migrate

    code, _, err = migrate(tmp_path, capsys, option, value)
    assert code == 2
    assert f"Invalid value for '{option}': {message}" in err
    assert not (tmp_path / "new_members.csv").exists()
