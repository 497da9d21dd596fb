"""The source loader: YAML and JSON with positions, folders, and hostile input refused."""

from __future__ import annotations

import re
import time
from datetime import date
from pathlib import Path

import pytest

from ruleform.errors import RulebookError
from ruleform.metadata import yaml_reader
from ruleform.metadata.overlays import load_rulebook_source
from ruleform.metadata.reading import MAX_FILE_BYTES
from ruleform.metadata.source import (
    SourceTree,
    display_path,
    format_path,
    load_source,
    load_text,
)

FIXTURES = Path(__file__).parent / "fixtures" / "source"
BROKEN = sorted(p for p in (FIXTURES / "broken").iterdir() if p.suffix in (".yaml", ".json"))
EXPECT = re.compile(r"(\d+):(\d+) (.+)")


def expectations(path: Path) -> list[tuple[int, int, str]]:
    """``# expect: LINE:COL fragment`` lines of a YAML fixture, or a JSON fixture's ``.expect``."""
    if path.suffix == ".json":
        lines = path.with_name(path.name + ".expect").read_text("utf-8").splitlines()
    else:
        lines = [
            line.removeprefix("# expect:").strip()
            for line in path.read_bytes().decode("utf-8", "replace").splitlines()
            if line.startswith("# expect:")
        ]
    found = [EXPECT.fullmatch(line) for line in lines if line.strip()]
    assert found and all(found), f"{path.name} states no expectation"
    return [(int(m[1]), int(m[2]), m[3]) for m in found if m]


@pytest.fixture(params=["libyaml", "python"])
def yaml_parser(request, monkeypatch):
    """Run a test with libyaml's parser and with PyYAML's pure-Python one."""
    if request.param == "libyaml" and yaml_reader.CParser is None:
        pytest.skip("PyYAML was built without libyaml")
    monkeypatch.setattr(yaml_reader, "USE_LIBYAML", request.param == "libyaml")
    return request.param


def problems_of(path: Path) -> list[tuple[str, int, int, str]]:
    with pytest.raises(RulebookError) as info:
        load_source(path)
    return [(p.file, p.line, p.column, p.message) for p in info.value.problems]


# --- broken files: each states where it is wrong and what the message says ----------------


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.name)
def test_broken_file_reports_each_problem_at_its_place(path, yaml_parser):
    problems = problems_of(path)
    expected = expectations(path)
    assert len(problems) == len(expected), problems
    for (file, line, column, message), (want_line, want_column, fragment) in zip(
        problems, expected, strict=True
    ):
        assert file == display_path(path)
        assert (line, column) == (want_line, want_column), message
        assert fragment in message


def test_alias_bomb_is_refused_in_well_under_a_second(yaml_parser):
    started = time.perf_counter()
    with pytest.raises(RulebookError, match="aliases expand"):
        load_source(FIXTURES / "broken" / "alias_bomb.yaml")
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("opening", ["[", "{a: "])
def test_very_deep_nesting_is_refused_without_recursion_error(opening, yaml_parser):
    text = "x: " + opening * 50_000
    with pytest.raises(RulebookError, match="nested more than 64 levels deep"):
        load_text(text, "deep.yaml")


def test_very_deep_json_is_refused_without_recursion_error():
    with pytest.raises(RulebookError, match="nested more than 64 levels deep"):
        load_text('{"x": ' + "[" * 50_000, "deep.json")


def test_nesting_of_64_levels_is_fine():
    tree = load_text("x: " + "[" * 63 + "1" + "]" * 63, "deep.yaml")
    value = tree.data["x"]
    for _ in range(62):
        value = value[0]
    assert value == [1]


def test_a_file_over_2_mib_is_refused_before_it_is_read(tmp_path, monkeypatch):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: " + b"x" * MAX_FILE_BYTES)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("the file was read"))
    with pytest.raises(RulebookError, match="at most 2 MiB") as info:
        load_source(big)
    assert info.value.problems[0].file == display_path(big)


def test_text_over_2_mib_is_refused():
    with pytest.raises(RulebookError, match="at most 2 MiB"):
        load_text("a: " + "é" * (MAX_FILE_BYTES // 2), "big.yaml")


def test_a_utf8_byte_order_mark_is_fine():
    tree = load_text(b"\xef\xbb\xbfname: crm\n", "bom.yaml")
    assert tree.data == {"name": "crm"}
    assert tree.where(("name",)).column == 1
    assert load_text(b'\xef\xbb\xbf{"name": "crm"}', "bom.json").data == {"name": "crm"}


def test_several_problems_of_one_file_are_reported_together():
    assert len(problems_of(FIXTURES / "broken" / "several_problems.yaml")) == 4


# --- values ------------------------------------------------------------------------------


def test_only_true_and_false_are_booleans(yaml_parser):
    tree = load_text(
        "a: on\nb: off\nc: yes\nd: no\ne: y\nf: n\ng: true\nh: False\ni: TRUE\nj: 'true'\n",
        "bools.yaml",
    )
    assert tree.data == {
        "a": "on", "b": "off", "c": "yes", "d": "no", "e": "y", "f": "n",
        "g": True, "h": False, "i": True, "j": "true",
    }  # fmt: skip


def test_a_status_named_off_stays_off():
    tree = load_text("states:\n  off: {label: Off}\n  on: {label: On}\n", "s.yaml")
    assert list(tree.data["states"]) == ["off", "on"]
    assert tree.data["states"]["off"] == {"label": "Off"}


def test_numbers_nulls_dates_and_timestamps(yaml_parser):
    tree = load_text(
        "int: 42\nneg: -7\nfloat: 3.5\nexp: 1e3\nzero_padded: 007\nversion: 1.0.0\n"
        "null1: null\nnull2: ~\nnull3:\nday: 2026-01-01\nquoted_day: '2026-01-01'\n"
        "stamp: 2026-01-01 10:00:00\nstamp2: 2026-01-01T10:00:00Z\nhex: 0x1F\n",
        "values.yaml",
    )
    assert tree.data == {
        "int": 42, "neg": -7, "float": 3.5, "exp": 1000.0, "zero_padded": "007",
        "version": "1.0.0", "null1": None, "null2": None, "null3": None,
        "day": date(2026, 1, 1), "quoted_day": "2026-01-01",
        "stamp": "2026-01-01 10:00:00", "stamp2": "2026-01-01T10:00:00Z", "hex": "0x1F",
    }  # fmt: skip


def test_scalar_keys_are_kept_as_written():
    tree = load_text("extra_holidays:\n  2026-12-31: Stocktake\n  1: one\n  on: x\n", "k.yaml")
    assert tree.data == {"extra_holidays": {"2026-12-31": "Stocktake", "1": "one", "on": "x"}}


def test_aliases_within_the_limit_are_expanded():
    tree = load_text("base: &b {type: string}\nfields:\n  a: *b\n  b: *b\n", "alias.yaml")
    assert tree.data["fields"] == {"a": {"type": "string"}, "b": {"type": "string"}}
    assert tree.data["fields"]["a"] is not tree.data["fields"]["b"]


# --- YAML and JSON give the same data ------------------------------------------------------


def test_yaml_and_json_parity():
    yaml_tree = load_source(FIXTURES / "parity" / "rulebook.yaml")
    json_tree = load_source(FIXTURES / "parity" / "rulebook.json")
    assert yaml_tree.data == json_tree.data
    assert list(yaml_tree.data) == list(json_tree.data)
    assert set(yaml_tree.value_marks) == set(json_tree.value_marks)
    assert set(yaml_tree.key_marks) == set(json_tree.key_marks)


def test_dates_are_dates_in_yaml_and_text_in_json():
    assert load_text("from: 2026-01-01\n", "d.yaml").data == {"from": date(2026, 1, 1)}
    assert load_text('{"from": "2026-01-01"}', "d.json").data == {"from": "2026-01-01"}


# --- marks and positions -------------------------------------------------------------------

MARKED = """\
entities:
  customer:
    fields:
      - name: phone
        type: phone
      - name: lost_reason
        visible_when: "status = 'lost'"
        required_when: 'it''s ''lost'''
        editable_when: |
          status != 'won'
            and owner = current_user
        folded: >
          first line
          second line
        plain: status = 'won' and
          amount > 5
        escaped: "a\\tb = 'c'"
"""


@pytest.fixture
def marked(yaml_parser) -> SourceTree:
    return load_text(MARKED, "marked.yaml")


def test_format_path():
    assert format_path(("entities", "customer", "fields", 2, "type")) == (
        "entities.customer.fields[2].type"
    )
    assert format_path(()) == ""
    assert format_path((0, "a")) == "[0].a"


def test_value_and_key_marks(marked):
    field = ("entities", "customer", "fields", 1)
    assert str(marked.value_marks[field]) == "marked.yaml:6:9"
    assert str(marked.key_marks[(*field, "visible_when")]) == "marked.yaml:7:9"
    assert str(marked.value_marks[(*field, "visible_when")]) == "marked.yaml:7:23"
    assert marked.value_marks[(*field, "visible_when")].path == (
        "entities.customer.fields[1].visible_when"
    )
    assert marked.files == ["marked.yaml"]


def test_where_prefers_the_key_and_falls_back_to_the_nearest_ancestor(marked):
    field = ("entities", "customer", "fields", 1)
    assert str(marked.where((*field, "name"))) == "marked.yaml:6:9"
    assert str(marked.where((*field, "name"), prefer="value")) == "marked.yaml:6:15"
    assert str(marked.where(field)) == "marked.yaml:6:9"  # list items have no key
    missing = marked.where((*field, "label", "en"))
    assert str(missing) == "marked.yaml:6:9"
    assert missing.path == "entities.customer.fields[1].label.en"
    assert str(marked.where(("entities", "customer"))) == "marked.yaml:2:3"


def test_scalar_styles(marked):
    field = ("entities", "customer", "fields", 1)
    styles = {key: marked.scalar_styles[(*field, key)] for key in marked.data["entities"][
        "customer"]["fields"][1]}  # fmt: skip
    assert styles == {
        "name": "", "visible_when": '"', "required_when": "'", "editable_when": "|",
        "folded": ">", "plain": "", "escaped": '"',
    }  # fmt: skip


@pytest.mark.parametrize(
    ("key", "fragment", "line", "column"),
    [
        ("visible_when", "'lost'", 7, 33),  # inside double quotes
        ("required_when", "s ''", 8, 29),  # '' inside single quotes is one character
        ("required_when", "lost", 8, 33),
        ("editable_when", "status", 10, 11),  # a | block starts on the next line
        ("editable_when", "'won'", 10, 21),
        ("editable_when", "owner", 11, 17),  # more indented second line
        ("folded", "second", 14, 11),  # > folds the break into a space
        ("plain", "amount", 16, 11),  # a multi-line plain scalar
        ("escaped", "'c'", 17, 26),  # \t is one character
    ],
)
def test_where_in_scalar(marked, key, fragment, line, column):
    path = ("entities", "customer", "fields", 1, key)
    value = marked.data["entities"]["customer"]["fields"][1][key]
    offset = value.index(fragment.replace("''", "'"))
    ref = marked.where_in_scalar(path, offset)
    assert (ref.file, ref.line, ref.column) == ("marked.yaml", line, column)
    raw_line = MARKED.splitlines()[line - 1]
    assert raw_line[column - 1 :].startswith(fragment.split()[0])


def test_where_in_scalar_of_json_strings_with_escapes():
    text = '{\n  "when": "\\u00e9\\ud83d\\ude00 \\"x\\" = 1"\n}\n'
    tree = load_text(text, "c.json")
    assert tree.data["when"] == 'é😀 "x" = 1'
    ref = tree.where_in_scalar(("when",), tree.data["when"].index("="))
    assert (ref.line, ref.column) == (2, 37)
    assert text.splitlines()[1][36] == "="


def test_where_in_scalar_of_a_non_string_gives_the_value_position():
    tree = load_text("a: 12\n", "n.yaml")
    assert str(tree.where_in_scalar(("a",), 1)) == "n.yaml:1:4"


# --- files and folders ---------------------------------------------------------------------


def test_folder_merges_entities_and_roles_item_by_item():
    tree = load_source(FIXTURES / "folder")
    assert list(tree.data["entities"]) == ["contact", "customer"]  # sorted by relative path
    assert list(tree.data["roles"]) == ["sales", "admin"]
    assert tree.data["calendar"] == {"working_days": ["mon", "tue", "wed", "thu", "fri"]}
    folder = FIXTURES / "folder"
    assert tree.files == [
        display_path(folder / name)
        for name in (
            "rulebook.yaml", "calendar.yml", "entities/contact.json",
            "entities/customer.yaml", "roles.yaml",
        )
    ]  # fmt: skip
    assert tree.source == display_path(folder)


def test_folder_marks_point_at_the_file_of_each_item():
    tree = load_source(FIXTURES / "folder")
    folder = FIXTURES / "folder"
    contact = tree.where(("entities", "contact", "fields", "customer", "entity"))
    assert (contact.file, contact.line) == (display_path(folder / "entities/contact.json"), 5)
    admin = tree.where(("roles", "admin"))
    assert (admin.file, admin.line, admin.column) == (display_path(folder / "roles.yaml"), 2, 3)


def test_folder_problems_of_every_file_are_reported_together():
    folder = FIXTURES / "folder_duplicates"
    problems = problems_of(folder)
    shown = {name: display_path(folder / name) for name in ("a.yaml", "b.yaml", "c.yaml")}
    assert problems[0] == (
        display_path(folder / "c.yaml"),
        4,
        5,
        "duplicate key 'label' (first at line 3)",
    )
    assert problems[1] == (display_path(folder / "d.json"), 1, 19, "trailing comma before '}'")
    assert problems[2] == (
        shown["b.yaml"], 2, 3,
        f"entity 'customer' is declared twice: {shown['a.yaml']}:2:3 and {shown['b.yaml']}:2:3",
    )  # fmt: skip
    rulebook = display_path(folder / "rulebook.yaml")
    assert problems[3] == (
        shown["b.yaml"], 6, 1,
        f"'calendar' is declared twice: {rulebook}:2:1 and {shown['b.yaml']}:6:1",
    )  # fmt: skip
    assert len(problems) == 4


def test_folder_without_rulebook_file():
    folder = FIXTURES / "folder_missing"
    [(file, _line, _column, message)] = problems_of(folder)
    assert file == display_path(folder)
    assert "has no rulebook.yaml" in message


def test_folder_with_two_rulebook_files(tmp_path):
    (tmp_path / "rulebook.yaml").write_text("name: a\n")
    (tmp_path / "rulebook.json").write_text('{"name": "a"}')
    with pytest.raises(RulebookError, match="rulebook.yaml and rulebook.json; keep only one"):
        load_source(tmp_path)


def test_missing_path_and_unknown_file_type(tmp_path):
    with pytest.raises(RulebookError, match="no such file or folder"):
        load_source(tmp_path / "nowhere.yaml")
    (tmp_path / "rules.toml").write_text("a = 1\n")
    with pytest.raises(RulebookError, match=r"\.yaml, \.yml or \.json"):
        load_source(tmp_path / "rules.toml")


def test_single_file_and_display_path_relative_to_cwd(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "crm.yml").write_text("name: crm\n")
    monkeypatch.chdir(tmp_path)
    tree = load_source(tmp_path / "sub" / "crm.yml")
    assert tree.files == [str(Path("sub") / "crm.yml")]
    assert tree.where(("name",)).file == str(Path("sub") / "crm.yml")
    elsewhere = tmp_path.parent / "x"
    assert display_path(elsewhere) == str(elsewhere)


def test_load_rulebook_source_without_extends_is_load_source():
    path = FIXTURES / "parity" / "rulebook.yaml"
    assert load_rulebook_source(path).data == load_source(path).data


@pytest.mark.parametrize("filename", ["s.yaml", "s.json"])
def test_a_lone_surrogate_in_text_is_refused(filename):
    text = "a: '\ud800'\n" if filename.endswith(".yaml") else '{"a": "\ud800"}'
    with pytest.raises(RulebookError, match="character U\\+D800 is not allowed") as info:
        load_text(text, filename)
    assert info.value.problems[0].line == 1
