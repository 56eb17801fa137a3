"""Statements people can read: the text form aligned by display width, the HTML page escaped
and self-contained (docs/ledger.md, "Reading a statement"). The statements are built by hand."""

from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuishou.ledger.models import Balance
from tuishou.ledger.statement_models import Period, Statement, StatementLine
from tuishou.ledger.statement_text import display_width, pad, statement_html, statement_text

from helpers import CN, examples

NOVEMBER = Period.month("2026-11")


def at(day: int, hour: int = 10, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=CN)


def statement(
    member: str = "张三",
    rule: str = "级差",
    order: str = "o1",
    *,
    closed: bool = True,
    refers_to: str | None = "2026-10",
    extra_lines: int = 0,
) -> Statement:
    """A statement that adds up (``check`` passes): earned 120.00 on ``order`` by ``rule``
    (differential) and a seller rule, a refund, a release, a clawback of an October order, a
    withdrawal of 30.00 with a 0.30 fee; ``extra_lines`` more lines at the end."""
    lines = [
        StatementLine(1, at(2), "pending", "post", 10000, order, rule, "differential"),
        StatementLine(2, at(2), "pending", "post", 2000, order, "自购", "seller"),
        StatementLine(3, at(5), "pending", "refund", -1000, order, rule, "differential", "r1"),
        StatementLine(4, at(9), "pending", "release", -5000, "o0", "自购", "seller"),
        StatementLine(5, at(9), "available", "release", 5000, "o0", "自购", "seller"),
        StatementLine(
            6, at(12), "available", "clawback", -300, "o0", "自购", "seller", "r2", refers_to
        ),
        StatementLine(7, at(20), "available", "withdrawal", -3000, request_id="w1"),
        StatementLine(8, at(20), "withdrawn", "withdrawal", 2970, request_id="w1"),
        StatementLine(9, at(20), "fees", "fee", 30, request_id="w1"),
    ]
    lines += [
        StatementLine(10 + i, at(28), "pending", "post", 0, f"z{i}", rule, "peer")
        for i in range(extra_lines)
    ]
    made = Statement(
        member_id=member,
        period=NOVEMBER,
        closed=closed,
        opening=Balance(pending=5000, available=2000, written_off=0),
        closing=Balance(pending=11000, available=3700, written_off=0, withdrawn=2970, fees=30),
        earned=12000,
        reversed=-1000,
        released=5000,
        clawed_back=-300,
        withdrawals=-3000,
        withdrawn=2970,
        fees=30,
        earned_by_rule=((rule, "differential", 10000), ("自购", "seller", 2000)),
        schedule=((date(2026, 12, 5), 8000), (date(2026, 12, 8), 2000)),
        awaiting_receipt=1000,
        lines=tuple(lines),
    )
    made.check()
    return made


GOLDEN = """\
对账单 Statement
  会员 member  张三
  周期 period  2026-11: 2026-11-01 00:00 to 2026-12-01 00:00 Asia/Shanghai (end excluded)
  状态 status  已月结 closed: this statement is final

期初余额 Opening balances (at 2026-11-01 00:00)
  余额 balance      金额 amount  分 fen
  ----------------  -----------  ------
  冻结 pending           ¥50.00    5000
  可提现 available       ¥20.00    2000
  审核中 held             ¥0.00       0
  待打款 payable          ¥0.00       0
  已提现 withdrawn        ¥0.00       0
  手续费 fees             ¥0.00       0
  核销 written off        ¥0.00       0

本期变动 Movements
  变动 movement      金额 amount  分 fen
  -----------------  -----------  ------
  赚取 earned           +¥120.00   12000
  退款冲减 reversed      -¥10.00   -1000
  解冻 released          +¥50.00    5000
  追回 clawed back        -¥3.00    -300
  核销 written off         ¥0.00       0
  提现 withdrawals       -¥30.00   -3000
  驳回退回 rejected        ¥0.00       0
  已提现 withdrawn       +¥29.70    2970
  手续费 fees             +¥0.30      30

期末余额 Closing balances (at 2026-12-01 00:00)
  余额 balance      金额 amount  分 fen
  ----------------  -----------  ------
  冻结 pending          ¥110.00   11000
  可提现 available       ¥37.00    3700
  审核中 held             ¥0.00       0
  待打款 payable          ¥0.00       0
  已提现 withdrawn       ¥29.70    2970
  手续费 fees             ¥0.30      30
  核销 written off        ¥0.00       0

按规则赚取 Earned by rule and kind
  规则 rule  类型 kind          金额 amount  分 fen
  ---------  -----------------  -----------  ------
  级差       级差 differential     +¥100.00   10000
  自购       分享 seller            +¥20.00    2000

待解冻 Pending schedule (available on, local date)
  日期 date                金额 amount  分 fen
  -----------------------  -----------  ------
  2026-12-05                    ¥80.00    8000
  2026-12-08                    ¥20.00    2000
  待收货 awaiting receipt       ¥10.00    1000

明细 Lines (9)
  时间 time         账户 bucket       事由 reason        订单 order  单号 request  规则 rule  类型 kind          金额 amount  备注 note
  ----------------  ----------------  -----------------  ----------  ------------  ---------  -----------------  -----------  ------------------------------------------------
  2026-11-02 10:00  冻结 pending      赚取 earned        o1                        级差       级差 differential     +¥100.00
  2026-11-02 10:00  冻结 pending      赚取 earned        o1                        自购       分享 seller            +¥20.00
  2026-11-05 10:00  冻结 pending      退款冲减 reversed  o1          r1            级差       级差 differential      -¥10.00
  2026-11-09 10:00  冻结 pending      解冻 released      o0                        自购       分享 seller            -¥50.00
  2026-11-09 10:00  可提现 available  解冻 released      o0                        自购       分享 seller            +¥50.00
  2026-11-12 10:00  可提现 available  追回 clawed back   o0          r2            自购       分享 seller             -¥3.00  clawback of an order from 2026-10 (原单 2026-10)
  2026-11-20 10:00  可提现 available  提现 withdrawal                w1                                              -¥30.00
  2026-11-20 10:00  已提现 withdrawn  提现 withdrawal                w1                                              +¥29.70
  2026-11-20 10:00  手续费 fees       手续费 fee                     w1                                               +¥0.30

订单明细 How an order's commission was computed (LEDGER: the ledger's file or URL):
  tuishou ledger explain LEDGER --order o1
  ledger.explain('o1')   (Python, on an open Ledger)
"""  # noqa: E501


def test_golden_text():
    """One small statement, pinned whole: what a member or an auditor reads."""
    assert statement_text(statement()) == GOLDEN


@pytest.mark.parametrize(
    ("text", "width"),
    [
        ("", 0),
        ("abc", 3),
        ("张三", 4),
        ("级差 differential", 17),
        ("Ａ", 2),  # fullwidth Latin letter (F)
        ("ｱ", 1),  # halfwidth katakana (H)
        ("한글", 4),  # Hangul syllables (W)
        ("e\u0301", 1),  # a combining acute accent takes no column
        ("a\u200bb", 2),  # a zero-width space (Cf)
        ("¥1,234.56", 9),  # the yen sign is narrow
        ("（预览）", 8),  # fullwidth brackets
    ],
)
def test_display_width_counts_wide_characters_twice(text, width):
    assert display_width(text) == width


@pytest.mark.parametrize(
    ("text", "width", "right", "padded"),
    [
        ("张三", 6, False, "张三  "),
        ("张三", 6, True, "  张三"),
        ("张三", 3, False, "张三"),  # never cut
        ("ab", 2, True, "ab"),
    ],
)
def test_pad_fills_to_the_display_width(text, width, right, padded):
    assert pad(text, width, right=right) == padded


# -- alignment: every row's columns start at the same display column --------------------------

ASCII_ID = st.text("abcxyzABC0189-_", min_size=1, max_size=12)
CJK_ID = st.text("张三李四王五级差平级推手团长自购", min_size=1, max_size=8)
MIXED_ID = st.text("张三级差abc XY09-ｱ한글e\u0301", min_size=1, max_size=10).filter(
    lambda text: text == text.strip()
)
IDS = st.one_of(ASCII_ID, CJK_ID, MIXED_ID)


def section(text: str, title: str) -> list[str]:
    """The lines of the section whose title starts with ``title`` (without the title)."""
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith(title)) + 1
    last = next((i for i in range(first, len(lines)) if not lines[i]), len(lines))
    return lines[first:last]


def columns(line: str, cells: list[str]) -> list[tuple[int, int]]:
    """The display columns where each of ``cells`` starts and ends in ``line``, found left to
    right (each after the one before)."""
    found, position = [], 0
    for cell in cells:
        position = line.index(cell, position)
        start = display_width(line[:position])
        found.append((start, start + display_width(cell)))
        position += len(cell)
    return found


def assert_aligned(rows: list[str], cells: list[list[str]], right: set[int]) -> None:
    """Left-aligned cells start, right-aligned cells end, at the same column in every row."""
    placed = [columns(row, row_cells) for row, row_cells in zip(rows, cells, strict=True)]
    for i in range(len(cells[0])):
        edge = [spot[i][1] if i in right else spot[i][0] for spot in placed]
        assert len(set(edge)) == 1, (i, edge, rows)


@settings(max_examples=examples(60), deadline=None)
@given(member=IDS, rule=IDS, order=IDS)
def test_the_columns_line_up_for_any_ids(member, rule, order):
    text = statement(member, rule, order).to_text()
    assert_aligned(
        section(text, "对账单 Statement"),
        [["会员 member", member], ["周期 period", "2026-11:"], ["状态 status", "已月结"]],
        right=set(),
    )
    by_rule = section(text, "按规则赚取")
    assert_aligned(
        [by_rule[0], *by_rule[2:]],
        [
            ["规则 rule", "类型 kind", "金额 amount"],
            [rule, "级差 differential", "+¥100.00"],
            ["自购", "分享 seller", "+¥20.00"],
        ],
        right={2},
    )
    lines = section(text, "明细 Lines")
    head = ["时间 time", "账户 bucket", "事由 reason", "订单 order", "规则 rule", "类型 kind"]
    day, bucket, reason = "2026-11-02 10:00", "冻结 pending", "赚取 earned"
    assert_aligned(
        [lines[0], lines[2], lines[3]],
        [
            [*head, "金额 amount"],
            [day, bucket, reason, order, rule, "级差 differential", "+¥100.00"],
            [day, bucket, reason, order, "自购", "分享 seller", "+¥20.00"],
        ],
        right={6},
    )
    assert len(lines) == 2 + len(statement().lines)
    assert all(line == line.rstrip() for line in text.splitlines())


# -- what each statement shows -----------------------------------------------------------------

ZERO = Balance(0, 0, 0)
EMPTY = Statement("A", NOVEMBER, False, ZERO, ZERO)
BIG = Statement(
    "B",
    NOVEMBER,
    True,
    Balance(0, 0, 0),
    Balance(123456789, 0, 0),
    earned=123456789,
    earned_by_rule=(("layers", "layer", 123456789),),
    awaiting_receipt=123456789,
)
HELD = Statement(
    "C",
    NOVEMBER,
    True,
    Balance(0, 5000, 0),
    Balance(0, 1000, 0, held=1000, payable=3000),
    withdrawals=-4000,
    lines=(
        StatementLine(1, at(3), "available", "withdrawal_requested", -1000, request_id="w1"),
        StatementLine(2, at(3), "held", "withdrawal_requested", 1000, request_id="w1"),
        StatementLine(3, at(4), "available", "withdrawal_requested", -3000, request_id="w2"),
        StatementLine(4, at(4), "held", "withdrawal_requested", 3000, request_id="w2"),
        StatementLine(5, at(5), "held", "withdrawal_approved", -3000, request_id="w2"),
        StatementLine(6, at(5), "payable", "withdrawal_approved", 3000, request_id="w2"),
    ),
)
DECEMBER_REFUND = Statement(
    "D",
    Period.month("2026-12"),
    False,
    Balance(0, 500, 0),
    Balance(0, 200, 0),
    clawed_back=-300,
    lines=(
        StatementLine(
            1,
            at(2, month=12),
            "available",
            "clawback",
            -300,
            "o9",
            "级差",
            "differential",
            "r9",
            "2026-11",
        ),
    ),
)


@pytest.mark.parametrize(
    ("made", "shown", "not_shown"),
    [
        (
            EMPTY,
            ["预览 provisional", "明细 Lines (0)", "无 none", "ledger.explain(order_id)"],
            ["已月结"],
        ),
        (statement(), ["已月结 closed", "ledger.explain('o1')", "--order o1"], ["预览"]),
        (BIG, ["¥1,234,567.89", "123456789", "待收货 awaiting receipt", "层级 layer"], ["-¥"]),
        (HELD, ["审核中 held", "¥10.00", "待打款 payable", "¥30.00", "提现申请 requested"], []),
        (HELD, ["提现批准 approved", "w2", "-¥40.00"], []),
        (DECEMBER_REFUND, ["clawback of an order from 2026-11", "2026-12-02 10:00"], []),
        (statement("李四", refers_to=None), ["会员 member  李四"], ["an order from"]),
        (statement(order="o 1"), ["--order 'o 1'", "ledger.explain('o 1')"], []),
    ],
)
def test_the_text_shows_what_the_statement_says(made, shown, not_shown):
    made.check()
    text = statement_text(made)
    assert made.to_text() == text
    for part in shown:
        assert part in text
    for part in not_shown:
        assert part not in text


def test_every_line_is_shown():
    """A statement is a record: a long one lists every line, in order."""
    made = statement(extra_lines=500)
    rows = section(made.to_text(), "明细 Lines (509)")
    assert len(rows) == 2 + 509
    assert [row.split()[6] for row in rows[-500:]] == [f"z{i}" for i in range(500)]


def test_a_control_character_cannot_break_a_row():
    made = dataclasses.replace(statement(), member_id="A\nB")
    assert "会员 member  A\\u000aB" in made.to_text()


# -- the HTML page -----------------------------------------------------------------------------


class Tags(HTMLParser):
    """The page's tags, in order (attributes included), and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, tuple[tuple[str, str | None], ...]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, tuple(attrs)))

    def handle_endtag(self, tag):
        self.tags.append(("/" + tag, ()))

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> Tags:
    tags = Tags()
    tags.feed(page)
    tags.close()
    return tags


HOSTILE = ["<script>alert(1)</script>", "\"&'", "</style><img src=x onerror=alert(1)>", "a&amp;b"]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("field", ["member", "rule", "order"])
def test_every_value_is_escaped(field, value):
    """A hostile id changes the page's text, never its tags: the same tags, in the same order,
    as with a plain id, and the id reads back as it was."""
    page = statement(**{field: value}).to_html()
    plain = parse(statement(**{field: "x"}).to_html())
    hostile = parse(page)
    assert hostile.tags == plain.tags
    assert value in "".join(hostile.text)
    assert "<script" not in page
    assert "<img" not in page


@pytest.mark.parametrize("made", [EMPTY, statement(), BIG, HELD, DECEMBER_REFUND])
def test_the_page_is_self_contained(made):
    page = statement_html(made)
    assert made.to_html() == page
    assert page.startswith('<!doctype html>\n<html lang="zh-CN">')
    assert '<meta charset="utf-8">' in page
    tags = parse(page)
    names = [tag for tag, _ in tags.tags]
    assert names.count("style") == 1
    assert "script" not in names
    assert not {"link", "img", "iframe", "object", "embed", "a", "form"} & set(names)
    attributes = {name for _, attrs in tags.tags for name, _ in attrs}
    assert attributes <= {"lang", "charset", "name", "content", "class"}
    for forbidden in ("http:", "https:", "url(", "@import", "//"):
        assert forbidden not in page
    opened = [tag for tag in names if not tag.startswith("/") and tag != "meta"]
    closed = [tag[1:] for tag in names if tag.startswith("/")]
    assert sorted(opened) == sorted(closed)  # every element is closed


def test_amounts_are_right_aligned_and_earned_lines_tell_how_to_explain():
    page = statement().to_html()
    assert '<td class="amount">+¥100.00</td>' in page
    assert '<th class="amount">金额 amount</th>' in page
    assert "td.amount, th.amount { text-align: right;" in page
    rows = [row for row in page.split("<tr>") if "<td>冻结 pending</td><td>赚取 earned" in row]
    assert len(rows) == 2
    for row in rows:
        assert "<td>o1</td>" in row
        assert "tuishou ledger explain LEDGER --order o1" in row
        assert "ledger.explain(&#x27;o1&#x27;)" in row
    assert "@media print" in page


def test_the_docs_show_what_the_text_form_prints():
    """docs/ledger.md, "Reading a statement": its excerpt is the start of ``statement()``."""
    docs = (Path(__file__).resolve().parents[1] / "docs" / "ledger.md").read_text("utf-8")
    section = docs[docs.index("## Reading a statement") :]
    excerpt = re.search(r"```text\n(.*?)```", section, flags=re.S)
    assert excerpt is not None, "the section's text example moved: update this test"
    assert statement().to_text().startswith(excerpt[1])
