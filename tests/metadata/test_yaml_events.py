"""The event-stream YAML reader gives exactly the tree the node-graph reader gives.

``read_yaml`` reads regular documents straight from parser events and falls back to the
node graph for anything unusual; the two must agree on data (types included), marks and
scalar styles — with libyaml's parser and with PyYAML's pure-Python one.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ruleform.errors import RulebookError
from ruleform.metadata import yaml_reader
from ruleform.metadata.source import load_text
from ruleform.metadata.yaml_events import read_events

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(
    [p for p in (Path(__file__).parent / "fixtures").rglob("*.yaml")]
    + list((ROOT / "metadata").rglob("*.yaml"))
)

TRICKY = {
    "scalars": (
        "a: 1\nb: -2\nc: 3.5\nd: 1e3\ne: 007\nf: 1.0.0\ng: null\nh: ~\ni:\nj: true\n"
        "k: False\nl: on\nm: off\nn: yes\no: 2026-01-01\np: '2026-01-01'\nq: 2026-01-01T08:00\n"
        "r: +5\ns: .5\nt: 0x1F\nu: 1_000\nv: ''\nw: \"\"\nx: '007'\n"
    ),
    "styles": (
        "plain: text here\nsingle: 'it''s'\ndouble: \"a\\tb \\u4e2d\"\n"
        "literal: |\n  line one\n  line two\nfolded: >-\n  folded\n  text\n"
    ),
    "flow": "a: {b: [1, 2, {c: d}], 'e f': [], g: {}}\nh: [x, [y, [z]]]\n",
    "keys": "'quoted key': 1\n\"1\": one\n2026-12-31: holiday\n中文: 文字\nTrue: t\n",
    "non-specific tag": "a: ! 12\nb: ! text\n",
    "nested lists": "- - a\n  - b\n- c: [d]\n-\n- ''\n",
    "unicode": 'label: {zh-CN: 客户, en: Customer}\nemoji: "😀"\n',
    "empty values": "a:\nb: []\nc: {}\nd: [~, null, '']\n",
    "document markers": "---\na: 1\n...\n",
}

IRREGULAR = {
    "anchor": "a: &x {b: 1}\nc: *x\n",
    "tag": "a: !!str 12\n",
    "duplicate": "a: 1\na: 2\n",
    "merge key": "a: &x {b: 1}\nc: {<<: *x}\n",
    "null key": "? ~\n: 1\n",
    "list key": "? [a]\n: 1\n",
    "nan": "a: .nan\n",
    "bad date": "a: 2026-02-30\n",
    "two documents": "a: 1\n---\nb: 2\n",
    "empty": "",
    "syntax": "a: [1, 2\n",
}


@pytest.fixture(params=["libyaml", "python"])
def parser(request, monkeypatch):
    if request.param == "libyaml" and yaml_reader.CParser is None:
        pytest.skip("PyYAML was built without libyaml")
    monkeypatch.setattr(yaml_reader, "USE_LIBYAML", request.param == "libyaml")
    return request.param


def _typed(value):
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, value)


def _read(text: str, name: str, streaming: bool, monkeypatch):
    monkeypatch.setattr(yaml_reader, "USE_STREAMING", streaming)
    try:
        tree = load_text(text, name)
    except RulebookError as exc:
        return ("error", [p.format() for p in exc.problems])
    return (
        _typed(tree.data),
        tree.value_marks,
        tree.key_marks,
        tree.scalar_styles,
    )


def _same_both_ways(text: str, name: str, monkeypatch) -> None:
    streamed = _read(text, name, True, monkeypatch)
    from_nodes = _read(text, name, False, monkeypatch)
    assert streamed == from_nodes


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_yaml_file_reads_the_same_both_ways(path, parser, monkeypatch):
    text = path.read_bytes().decode("utf-8", "replace")
    _same_both_ways(text, path.name, monkeypatch)


@pytest.mark.parametrize("text", [*TRICKY.values(), *IRREGULAR.values()],
                         ids=[*TRICKY, *IRREGULAR])  # fmt: skip
def test_tricky_documents_read_the_same_both_ways(text, parser, monkeypatch):
    _same_both_ways(text, "t.yaml", monkeypatch)


@pytest.mark.parametrize("text", TRICKY.values(), ids=TRICKY)
def test_regular_documents_are_read_from_events(text, parser):
    tree = read_events(lambda: yaml_reader._loader(text), text, "t.yaml")
    assert tree is not None


@pytest.mark.parametrize("text", IRREGULAR.values(), ids=IRREGULAR)
def test_irregular_documents_go_through_the_node_graph(text, parser):
    assert read_events(lambda: yaml_reader._loader(text), text, "t.yaml") is None


def test_values_keep_the_language_rules(parser):
    tree = read_events(lambda: yaml_reader._loader(TRICKY["scalars"]), "", "t.yaml")
    assert tree is not None
    data = tree.data
    assert data["l"] == "on" and data["m"] == "off" and data["n"] == "yes"
    assert data["j"] is True and data["k"] is False
    assert data["o"] == date(2026, 1, 1) and data["p"] == "2026-01-01"
    assert data["q"] == "2026-01-01T08:00" and data["e"] == "007" and data["f"] == "1.0.0"
    assert data["g"] is None and data["i"] is None and data["v"] == ""


def test_a_folder_keeps_every_file_s_marks_and_the_first_file_s_top_marks():
    from ruleform.metadata.source import load_source

    folder = ROOT / "metadata" / "crm"
    merged = load_source(folder)
    files = sorted(folder.glob("*.yaml"))
    first_with_entities = next(p for p in files if p.name != "rulebook.yaml")
    assert merged.value_marks[()].file.endswith("rulebook.yaml")
    assert merged.key_marks[("entities",)].file.endswith(first_with_entities.name)
    for path in files:
        alone = load_text(path.read_bytes(), str(path.relative_to(ROOT)))
        for marks, mine in ((alone.value_marks, merged.value_marks),
                            (alone.key_marks, merged.key_marks)):  # fmt: skip
            for sub, mark in marks.items():
                if len(sub) > 1 or (sub and path.name == "rulebook.yaml" and sub != ("entities",)):
                    assert (mine[sub].line, mine[sub].column) == (mark.line, mark.column), sub
        for sub, style in alone.scalar_styles.items():
            assert merged.scalar_styles[sub] == style
