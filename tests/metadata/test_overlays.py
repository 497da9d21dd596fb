"""Overlays: a rulebook that extends another adds, changes, replaces and removes items."""

from __future__ import annotations

from pathlib import Path

import pytest

from ruleform.errors import RulebookError
from ruleform.metadata.overlays import MAX_OVERLAY_DEPTH, load_rulebook_source
from ruleform.metadata.source import display_path, load_source
from tests.metadata.test_source import expectations

FIXTURES = Path(__file__).parent / "fixtures" / "overlays"
BASE = FIXTURES / "base"
BROKEN = sorted((FIXTURES / "broken").glob("*.yaml"))


@pytest.fixture(scope="module")
def retail():
    return load_rulebook_source(FIXTURES / "retail")


def customer(tree) -> dict:
    return tree.data["entities"]["customer"]


def problems_of(path: Path) -> list[tuple[str, int, int, str]]:
    with pytest.raises(RulebookError) as info:
        load_rulebook_source(path)
    return [(p.file, p.line, p.column, p.message) for p in info.value.problems]


# --- what the overlay makes of the base ----------------------------------------------------


def test_top_level_keys_override_and_extends_names_the_base(retail):
    assert retail.data["name"] == "retail-crm"
    assert retail.data["version"] == "2.0.0"
    assert retail.data["timezone"] == "Asia/Shanghai"  # from the base
    assert retail.data["label"] == {"zh-CN": "客户关系管理", "en": "Retail customer management"}
    assert retail.data["extends"] == display_path(BASE)


def test_fields_are_added_changed_replaced_and_removed(retail):
    fields = customer(retail)["fields"]
    assert list(fields) == ["company_name", "mobile", "source", "store"]
    assert fields["company_name"] == {
        "type": "string",
        "label": {"zh-CN": "客户公司全称", "en": "Customer name"},
        "required": True,
        "max_length": 100,
    }
    assert fields["mobile"] == {"type": "phone"}  # replaced: region and label are gone
    assert fields["store"] == {"type": "string", "label": {"zh-CN": "门店", "en": "Store"}}


def test_choices_are_named_items(retail):
    choices = customer(retail)["fields"]["source"]["choices"]
    assert choices == {
        "trade_show": {"zh-CN": "展会", "en": "Trade show"},
        "referral": {"zh-CN": "转介绍", "en": "Recommendation"},
        "walk_in": "Walk-in",  # a new choice needs nothing more than a label
    }


def test_statuses_transitions_and_time_rules_merge(retail):
    entity = customer(retail)
    states = entity["statuses"]["states"]
    assert states["interested"] == {"label": {"zh-CN": "意向会员", "en": "Interested member"}}
    assert list(states) == ["prospect", "interested", "won", "vip"]
    assert entity["statuses"]["initial"] == "prospect"
    steps = entity["transitions"]["win"]["approval"]["steps"]
    assert list(steps) == ["manager", "finance"]
    assert entity["transitions"]["win"]["to"] == "won"
    rules = entity["time_rules"]
    assert rules["stale_customer"] == {
        "inactive": {"since": "updated_at", "for": "30 days"},
        "actions": [{"notify": ["owner"]}],
    }
    assert "birthday" in rules


def test_lists_are_replaced_whole(retail):
    assert customer(retail)["views"]["all"] == {
        "columns": ["company_name", "store"],
        "sort": ["-updated_at"],
    }


def test_roles_and_entities_are_added_and_removed(retail):
    assert list(retail.data["roles"]) == ["sales", "sales_manager", "store_manager"]
    assert retail.data["entities"]["member"]["fields"] == {"card_no": {"type": "string"}}


def test_the_base_tree_is_not_changed():
    base = load_source(BASE)
    before = repr(base.data)
    load_rulebook_source(FIXTURES / "retail")
    assert repr(load_source(BASE).data) == before


# --- where things come from ----------------------------------------------------------------


def test_marks_point_at_the_overlay_for_what_it_wrote_and_at_the_base_for_the_rest(retail):
    overlay = display_path(FIXTURES / "retail" / "rulebook.yaml")
    base = display_path(BASE / "customer.yaml")
    fields = ("entities", "customer", "fields")

    def at(path, prefer="key"):
        ref = retail.where(path, prefer)
        return ref.file, ref.line

    assert at((*fields, "store")) == (overlay, 12)
    assert at((*fields, "store", "label", "en"), "value") == (overlay, 14)
    assert at((*fields, "company_name", "label", "en")) == (overlay, 17)
    assert at((*fields, "company_name", "label", "zh-CN")) == (base, 8)
    assert at((*fields, "company_name", "type")) == (base, 7)
    assert at((*fields, "company_name")) == (base, 6)  # a mapping both wrote: the base's
    assert at((*fields, "mobile")) == (overlay, 19)
    assert at((*fields, "mobile", "region")) == (overlay, 19)  # gone: nearest ancestor
    assert at(("entities", "member")) == (overlay, 42)
    assert at(("name",), "value") == (overlay, 2)
    assert at(("timezone",)) == (display_path(BASE / "rulebook.yaml"), 7)
    assert at(("extends",), "value") == (overlay, 4)
    assert retail.where(()).file == overlay


def test_files_lists_the_overlay_and_the_base(retail):
    assert retail.files == [
        display_path(FIXTURES / "retail" / "rulebook.yaml"),
        display_path(BASE / "rulebook.yaml"),
        display_path(BASE / "customer.yaml"),
    ]
    assert retail.source == display_path(FIXTURES / "retail")


def test_where_in_scalar_reads_the_file_the_value_came_from(retail):
    path = ("entities", "customer", "time_rules", "stale_customer", "inactive", "for")
    ref = retail.where_in_scalar(path, 3)  # the "d" of "30 days"
    overlay = FIXTURES / "retail" / "rulebook.yaml"
    assert (ref.file, ref.line, ref.column) == (display_path(overlay), 38, 47)
    assert overlay.read_text("utf-8").splitlines()[37][46:50] == "days"


def test_an_overlay_of_an_overlay_single_file_relative_to_its_folder():
    tree = load_rulebook_source(FIXTURES / "chain" / "shop.yaml")
    assert tree.data["name"] == "shop-crm"
    assert tree.data["version"] == "2.0.0"
    assert tree.data["extends"] == display_path(FIXTURES / "retail")
    store = customer(tree)["fields"]["store"]
    assert store == {"type": "string", "label": {"zh-CN": "门店", "en": "Shop"}}
    assert "qq" not in customer(tree)["fields"]
    assert tree.files[0] == display_path(FIXTURES / "chain" / "shop.yaml")
    assert len(tree.files) == 4


# --- mistakes ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.name)
def test_broken_overlay_reports_at_the_overlay_line(path):
    problems = problems_of(path)
    expected = expectations(path)
    assert len(problems) == len(expected), problems
    for (file, line, column, message), (want_line, want_column, fragment) in zip(
        problems, expected, strict=True
    ):
        assert file == display_path(path)
        assert (line, column) == (want_line, want_column), message
        assert fragment in message


def test_extends_cycle():
    [(file, line, column, message)] = problems_of(FIXTURES / "cycle" / "a.yaml")
    assert (file, line, column) == (display_path(FIXTURES / "cycle" / "b.yaml"), 2, 10)
    assert "extend each other in a cycle" in message
    assert "a.yaml → " in message and message.endswith("a.yaml")


def test_extends_itself(tmp_path):
    (tmp_path / "rulebook.yaml").write_text("name: x\nextends: .\n")
    with pytest.raises(RulebookError, match="cycle"):
        load_rulebook_source(tmp_path)


def test_missing_base():
    [(file, line, _column, message)] = problems_of(FIXTURES / "missing_base.yaml")
    assert (file, line) == (display_path(FIXTURES / "missing_base.yaml"), 2)
    assert "cannot find the base rulebook '../nowhere'" in message


def _chain(folder: Path, length: int) -> Path:
    (folder / "r0.yaml").write_text("name: r0\nlevel: 0\n")
    for i in range(1, length + 1):
        (folder / f"r{i}.yaml").write_text(f"name: r{i}\nlevel: {i}\nextends: r{i - 1}.yaml\n")
    return folder / f"r{length}.yaml"


def test_overlays_nest_up_to_the_limit(tmp_path):
    tree = load_rulebook_source(_chain(tmp_path, MAX_OVERLAY_DEPTH))
    assert tree.data["level"] == MAX_OVERLAY_DEPTH
    assert len(tree.files) == MAX_OVERLAY_DEPTH + 1


def test_overlays_nested_too_deep(tmp_path):
    with pytest.raises(RulebookError, match=f"nested more than {MAX_OVERLAY_DEPTH} deep"):
        load_rulebook_source(_chain(tmp_path, MAX_OVERLAY_DEPTH + 1))


def test_errors_in_the_base_point_at_the_base(tmp_path):
    (tmp_path / "base.yaml").write_text("name: a\nname: b\n")
    (tmp_path / "overlay.yaml").write_text("extends: base.yaml\n")
    [(file, line, _column, message)] = problems_of(tmp_path / "overlay.yaml")
    assert (file, line) == (display_path(tmp_path / "base.yaml"), 2)
    assert "duplicate key 'name'" in message


def test_replace_of_a_new_item_is_an_addition(tmp_path):
    (tmp_path / "base.yaml").write_text("entities:\n  a:\n    fields: {x: {type: string}}\n")
    (tmp_path / "ok.yaml").write_text(
        "extends: base.yaml\nentities:\n  a:\n    fields:\n      y: {replace: true, type: text}\n"
    )
    tree = load_rulebook_source(tmp_path / "ok.yaml")
    assert tree.data["entities"]["a"]["fields"] == {"x": {"type": "string"}, "y": {"type": "text"}}
    (tmp_path / "bad.yaml").write_text(
        "extends: base.yaml\nentities:\n  a:\n    fields:\n      y: {replace: true, label: Y}\n"
    )
    with pytest.raises(RulebookError, match="the overlay changes field 'y'"):
        load_rulebook_source(tmp_path / "bad.yaml")


def test_several_overlay_problems_are_reported_together():
    assert len(problems_of(FIXTURES / "broken" / "incomplete_items.yaml")) == 5
