"""The pure aggregation engine: tree parsing, sums, energy from increases, rebuilds."""

from __future__ import annotations

import pytest

from custom_components.hems.aggregation.engine import (
    ROOT_KEY,
    Aggregator,
    Counter,
    NodeSpec,
    RegistryArea,
    TreeError,
    parse_number,
    parse_tree,
    registry_tree,
    slugify,
)

TREE = """
# a comment line
Company/Office A/Room 1: sensor.a_power, sensor.a_energy
Company/Office A/Room 2: sensor.b_power   # trailing comment
Company/Office B: sensor.c_power, sensor.c_energy
Company/Office A = sensor.office_a_meter
"""


def test_parse_tree_single_root() -> None:
    """A shared first name becomes the root; nodes keep their order; meters are separate."""
    specs = parse_tree(TREE, "ignored")
    assert [spec.key for spec in specs] == [
        ROOT_KEY,
        "path:Office A",
        "path:Office A/Room 1",
        "path:Office A/Room 2",
        "path:Office B",
    ]
    assert specs[0].name == "Company"
    assert specs[0].parent is None
    assert specs[2].parent == "path:Office A"
    assert specs[2].members == ("sensor.a_power", "sensor.a_energy")
    assert specs[1].meters == ("sensor.office_a_meter",)
    assert specs[1].members == ()


def test_parse_tree_implicit_root() -> None:
    """Several first names hang under a root named after the entry; root members work."""
    specs = parse_tree("A: sensor.x\nB/C: sensor.y\n", "Site")
    assert specs[0].name == "Site"
    assert [(s.key, s.parent) for s in specs[1:]] == [
        ("path:A", ROOT_KEY),
        ("path:B", ROOT_KEY),
        ("path:B/C", "path:B"),
    ]
    only_root = parse_tree("Home: sensor.x", "Site")
    assert len(only_root) == 1
    assert only_root[0].name == "Home"
    assert only_root[0].members == ("sensor.x",)


@pytest.mark.parametrize(
    ("text", "line", "code", "entity", "other"),
    [
        ("A sensor.x", 1, "syntax", "", 0),
        ("\nA//B: sensor.x", 2, "empty_name", "", 0),
        ("A:  , ", 1, "no_entity", "", 0),
        ("A: sensor.Bad", 1, "bad_entity", "sensor.Bad", 0),
        ("A: light.x", 1, "not_sensor", "light.x", 0),
        ("A: sensor.x\nB = sensor.x", 2, "duplicate", "sensor.x", 1),
        ("# nothing\n\n", 0, "empty", "", 0),
    ],
)
def test_parse_tree_errors(text: str, line: int, code: str, entity: str, other: int) -> None:
    """Every mistake names its line and what is wrong."""
    with pytest.raises(TreeError) as caught:
        parse_tree(text, "Site")
    assert (caught.value.line, caught.value.code) == (line, code)
    assert (caught.value.entity, caught.value.other) == (entity, other)
    assert (f"line {line}" in str(caught.value)) == bool(line)


def test_registry_tree() -> None:
    """Floors in order, areas sorted by name, floorless areas under the site, empty ones out."""
    specs = registry_tree(
        "Home",
        [("ground", "Ground floor"), ("attic", "Attic")],
        [
            RegistryArea(area_id="kitchen", name="Kitchen", floor_id="ground", members=("s.k",)),
            RegistryArea(area_id="bath", name="Bath", floor_id="ground", members=("s.b",)),
            RegistryArea(area_id="garden", name="Garden", floor_id=None, members=("s.g",)),
            RegistryArea(area_id="empty", name="Empty", floor_id="attic", members=()),
            RegistryArea(area_id="lost", name="Lost", floor_id="gone", members=("s.l",)),
        ],
        ["sensor.site"],
    )
    assert [(s.key, s.parent) for s in specs] == [
        (ROOT_KEY, None),
        ("floor:ground", ROOT_KEY),
        ("area:bath", "floor:ground"),
        ("area:garden", ROOT_KEY),
        ("area:kitchen", "floor:ground"),
        ("area:lost", ROOT_KEY),
    ]
    assert specs[0].meters == ("sensor.site",)


def test_slugify_and_numbers() -> None:
    """Slugs are topic safe; numbers must be finite."""
    assert slugify("Büro 1 / Süd") == "b_ro_1_s_d"
    assert slugify("!!!") == "node"
    assert parse_number("1.5") == 1.5
    assert parse_number("nan") is None
    assert parse_number("unavailable") is None
    assert parse_number(None) is None


def test_counter_resets_glitches_and_units() -> None:
    """Increases only; a glitch back down is ignored; a confirmed reset counts from there."""
    counter = Counter()
    assert counter.feed(100.0, "kWh") == 0.0  # first reading is the baseline
    assert counter.feed(101.5, "kWh") == pytest.approx(1.5)
    assert counter.feed(0.0, "kWh") == 0.0  # suspected reset
    assert counter.feed(101.7, "kWh") == pytest.approx(0.2)  # it was a glitch
    assert counter.feed(0.1, "kWh") == 0.0  # suspected
    assert counter.feed(0.4, "kWh") == pytest.approx(0.3)  # confirmed reset: from 0.1
    assert counter.feed(0.6, "kWh") == pytest.approx(0.2)
    assert counter.feed(0.05, "kWh") == 0.0
    assert counter.feed(0.01, "kWh") == 0.0  # reset below the suspected value
    assert counter.feed(0.6, "Wh") == 0.0  # unit change re-bases
    assert counter.feed(0.7, "Wh") == pytest.approx(0.1)
    assert Counter.load(counter.dump()) == counter


def _office() -> Aggregator:
    return Aggregator(parse_tree(TREE, "Site"))


def test_power_sums_and_unavailable_members() -> None:
    """Power sums over reporting members; unavailable ones are listed and excluded."""
    agg = _office()
    root, office_a, room1 = (
        agg.nodes[ROOT_KEY],
        agg.nodes["path:Office A"],
        agg.nodes["path:Office A/Room 1"],
    )
    assert root.members == 5
    assert root.reporting == 0
    assert root.power_value is None
    assert agg.update("sensor.a_power", "100", "W")
    assert agg.update("sensor.b_power", "0.5", "kW")
    assert agg.update("sensor.c_power", "25", "W")
    assert not agg.update("sensor.unknown", "1", "W")
    assert root.power_value == 625.0
    assert office_a.power_value == 600.0
    assert room1.power_value == 100.0
    assert agg.take_dirty() >= {root, office_a, room1}
    assert agg.take_dirty() == set()
    agg.update("sensor.b_power", "unavailable", "kW")
    assert root.power_value == 125.0
    assert "sensor.b_power" in root.unavailable
    assert "sensor.b_power" in office_a.unavailable
    assert agg.nodes["path:Office A/Room 2"].power_value is None
    assert agg.take_dirty() == {root, office_a, agg.nodes["path:Office A/Room 2"]}
    # An unknown unit counts as not reporting.
    agg.update("sensor.c_power", "3", "A")
    assert root.power_value == 100.0
    assert "sensor.c_power" in root.unavailable
    agg.update("sensor.a_power", None, None)  # removed
    assert root.power_value is None
    assert root.power == 0.0


def test_energy_from_increases() -> None:
    """Totals grow by increases only, through resets, outages, unit changes."""
    agg = _office()
    root, office_a, room1 = (
        agg.nodes[ROOT_KEY],
        agg.nodes["path:Office A"],
        agg.nodes["path:Office A/Room 1"],
    )
    agg.update("sensor.a_energy", "5000", "kWh")  # baseline, no jump
    agg.update("sensor.c_energy", "12", "kWh")
    assert root.energy == 0.0
    agg.update("sensor.a_energy", "5001", "kWh")
    agg.update("sensor.c_energy", "12.5", "kWh")
    assert root.energy == pytest.approx(1.5)
    assert office_a.energy == pytest.approx(1.0)
    assert room1.energy == pytest.approx(1.0)
    agg.update("sensor.a_energy", "unavailable", "kWh")
    assert "sensor.a_energy" in root.unavailable
    agg.update("sensor.a_energy", "5002", "kWh")  # back: counts what happened meanwhile
    assert office_a.energy == pytest.approx(2.0)
    agg.update("sensor.a_energy", "5002000", "Wh")  # unit change: same reading, no jump
    agg.update("sensor.a_energy", "0", "Wh")  # reset to zero
    agg.update("sensor.a_energy", "500", "Wh")
    assert office_a.energy == pytest.approx(2.5)
    assert root.energy == pytest.approx(3.0)


def test_unmeasured_power_and_energy() -> None:
    """A meter gives an unmeasured part; its energy never runs backwards."""
    agg = Aggregator(
        [
            NodeSpec(key=ROOT_KEY, name="Site", parent=None, meters=("sensor.mp", "sensor.me")),
            NodeSpec(key="a", name="A", parent=ROOT_KEY, members=("sensor.p", "sensor.e")),
        ]
    )
    root = agg.nodes[ROOT_KEY]
    assert root.has_meter
    assert not agg.nodes["a"].has_meter
    assert root.unmeasured_power is None
    agg.update("sensor.p", "300", "W")
    agg.update("sensor.mp", "1", "kW")
    assert root.unmeasured_power == 700.0
    agg.update("sensor.mp", "unavailable", "kW")
    assert root.unmeasured_power is None
    agg.update("sensor.mp", "1.2", "kW")
    assert root.unmeasured_power == 900.0
    agg.update("sensor.me", "1000", "kWh")
    agg.update("sensor.e", "10", "kWh")
    agg.update("sensor.e", "11", "kWh")  # member first: +1 measured
    assert root.unmeasured_energy == 0.0
    agg.update("sensor.me", "1003", "kWh")  # meter +3: 2 unmeasured
    assert root.unmeasured_energy == pytest.approx(2.0)
    agg.update("sensor.e", "13", "kWh")  # member catches up: never backwards
    assert root.unmeasured_energy == pytest.approx(2.0)
    agg.update("sensor.me", "1006", "kWh")
    assert root.unmeasured_energy == pytest.approx(3.0)
    assert root.energy == pytest.approx(3.0)
    payloads = dict(agg.payloads("T"))
    assert payloads["site/unmeasured/power"] == {"value": 900.0, "unit": "W", "timestamp": "T"}
    assert payloads["site/unmeasured/energy"]["value"] == pytest.approx(3.0)
    assert payloads["site/a/power"]["value"] == 300.0
    assert payloads["site/a/energy"]["value"] == pytest.approx(3.0)


def test_rebuild_keeps_totals_and_counters() -> None:
    """Moving a member keeps every total; its counter moves along; a gone node drops out."""
    specs = [
        NodeSpec(key=ROOT_KEY, name="Site", parent=None),
        NodeSpec(key="a", name="A", parent=ROOT_KEY, members=("sensor.e",)),
        NodeSpec(key="b", name="B", parent=ROOT_KEY),
    ]
    agg = Aggregator(specs)
    agg.update("sensor.e", "10", "kWh")
    agg.update("sensor.e", "12", "kWh")
    agg.rebuild(
        [
            NodeSpec(key=ROOT_KEY, name="Site", parent=None),
            NodeSpec(key="a", name="A", parent=ROOT_KEY),
            NodeSpec(key="b", name="B", parent=ROOT_KEY, members=("sensor.e", "sensor.e")),
            NodeSpec(key="c", name="B", parent=ROOT_KEY),
        ]
    )
    assert agg.nodes["a"].energy == pytest.approx(2.0)
    assert agg.nodes[ROOT_KEY].energy == pytest.approx(2.0)
    assert agg.nodes["b"].energy == 0.0
    assert agg.nodes["b"].own_members == ["sensor.e"]
    assert agg.nodes["c"].slug == "b_2"  # sibling slugs stay unique
    agg.update("sensor.e", "12.5", "kWh")  # the counter moved along: +0.5, no jump
    assert agg.nodes["b"].energy == pytest.approx(0.5)
    assert agg.nodes["a"].energy == pytest.approx(2.0)
    assert agg.nodes[ROOT_KEY].energy == pytest.approx(2.5)
    assert agg.dirty  # a rebuild marks everything for writing
    with pytest.raises(ValueError, match="root"):
        Aggregator([specs[0], NodeSpec(key="x", name="X", parent=None)])


def test_dump_load_and_describe() -> None:
    """Totals and counters survive a restart; the tree describes itself."""
    agg = _office()
    agg.update("sensor.a_energy", "1", "kWh")
    agg.update("sensor.a_energy", "3", "kWh")
    saved = agg.dump()
    again = _office()
    again.load({**saved, "nodes": {**saved["nodes"], "path:gone": {"energy": 9}}})
    assert again.nodes[ROOT_KEY].energy == pytest.approx(2.0)
    again.update("sensor.a_energy", "4", "kWh")
    assert again.nodes[ROOT_KEY].energy == pytest.approx(3.0)
    tree = again.describe()
    assert tree["name"] == "Company"
    assert tree["path"] == "company"
    office_a = tree["children"][0]
    assert office_a["path"] == "company/office_a"
    assert office_a["meters"] == ["sensor.office_a_meter"]
    assert office_a["children"][0]["members"] == ["sensor.a_power", "sensor.a_energy"]
