"""Hierarchical power and energy aggregation: a pure engine without Home Assistant imports.

A tree of nodes (site -> floors -> areas, or any explicit path such as company / office /
room) holds member sensors at its nodes. Every node keeps, for its whole subtree:

* ``power``: the sum of the power members that report (W),
* ``energy``: an accumulator (kWh) built only from each energy member's *increases*, so a
  member that resets, goes unavailable, changes unit or is replaced never makes it jump or
  run backwards,
* how many members there are, how many report, and which do not.

A member update costs O(depth): it adds a delta to its ancestors and marks them dirty; the
caller writes the dirty nodes out in batches. A node may have meters (a site meter, a sub
meter); then it also has an "unmeasured" power (meter minus members) and energy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
import math
import re
from typing import Any, Final

ROOT_KEY: Final = "site"

# Factors to the engine's units: W for power, kWh for energy.
POWER_UNITS: Final[Mapping[str, float]] = {"W": 1.0, "kW": 1000.0, "MW": 1_000_000.0}
ENERGY_UNITS: Final[Mapping[str, float]] = {
    "Wh": 0.001,
    "kWh": 1.0,
    "MWh": 1000.0,
    "GWh": 1_000_000.0,
}

_ENTITY_ID = re.compile(r"^(?!.+__)(?!_)[\da-z_]+(?<!_)\.(?!_)[\da-z_]+(?<!_)$")


def slugify(name: str) -> str:
    """A topic-safe slug: lower case letters, digits and ``_``."""
    slug = re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")
    return slug or "node"


def parse_number(raw: object) -> float | None:
    """A finite float from a state string, or None."""
    if raw is None:
        return None
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


# --------------------------------------------------------------------------- tree spec


@dataclass(frozen=True, kw_only=True)
class NodeSpec:
    """One node of a hierarchy as configured: parents come before their children."""

    key: str
    name: str
    parent: str | None
    members: tuple[str, ...] = ()
    meters: tuple[str, ...] = ()


class TreeError(ValueError):
    """An explicit tree that cannot be used.

    ``code`` names the problem (the config flow translates it), ``line`` is 1-based (0:
    the whole text), ``entity`` the entity id concerned and ``other`` another line.
    """

    MESSAGES: Final[Mapping[str, str]] = {
        "syntax": "expected 'path: entities' or 'path = meters'",
        "empty_name": "a name in the path is empty",
        "no_entity": "no entity listed",
        "bad_entity": "'{entity}' is not an entity id",
        "not_sensor": "'{entity}' is not a sensor",
        "duplicate": "{entity} is already used on line {other}",
        "empty": "the tree is empty",
    }

    def __init__(self, line: int, code: str, entity: str = "", other: int = 0) -> None:
        reason = self.MESSAGES[code].format(entity=entity, other=other)
        super().__init__(f"line {line}: {reason}" if line else reason)
        self.line, self.code, self.entity, self.other = line, code, entity, other


def parse_tree(text: str, root_name: str) -> list[NodeSpec]:
    """Parse the flow's tree text into node specs.

    One line per node: ``Company/Office A/Room 1: sensor.a, sensor.b`` lists members,
    ``Company/Office A = sensor.office_meter`` lists meters (the node then gets an
    "unmeasured" value). ``#`` starts a comment. When every path starts with the same
    name, that name is the root; otherwise an implicit root called ``root_name`` holds
    them all.
    """
    entries: list[tuple[int, tuple[str, ...], str, tuple[str, ...]]] = []
    seen: dict[str, int] = {}
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.split("#", 1)[0].strip()
        if not line:
            continue
        colon, equals = line.find(":"), line.find("=")
        cuts = [cut for cut in (colon, equals) if cut >= 0]
        if not cuts:
            raise TreeError(number, "syntax")
        cut = min(cuts)
        role = "member" if line[cut] == ":" else "meter"
        segments = tuple(part.strip() for part in line[:cut].split("/"))
        if not all(segments):
            raise TreeError(number, "empty_name")
        ids = tuple(part.strip() for part in line[cut + 1 :].split(",") if part.strip())
        if not ids:
            raise TreeError(number, "no_entity")
        for entity_id in ids:
            if not _ENTITY_ID.match(entity_id):
                raise TreeError(number, "bad_entity", entity_id)
            if not entity_id.startswith("sensor."):
                raise TreeError(number, "not_sensor", entity_id)
            if entity_id in seen:
                raise TreeError(number, "duplicate", entity_id, seen[entity_id])
            seen[entity_id] = number
        entries.append((number, segments, role, ids))
    if not entries:
        raise TreeError(0, "empty")

    firsts = {segments[0] for _, segments, _, _ in entries}
    single_root = len(firsts) == 1
    root = next(iter(firsts)) if single_root else root_name
    nodes: dict[tuple[str, ...], dict[str, Any]] = {(): {"name": root, "members": [], "meters": []}}
    order: list[tuple[str, ...]] = [()]
    for _, segments, role, ids in entries:
        rel = segments[1:] if single_root else segments
        for depth in range(1, len(rel) + 1):
            path = rel[:depth]
            if path not in nodes:
                nodes[path] = {"name": path[-1], "members": [], "meters": []}
                order.append(path)
        nodes[rel]["members" if role == "member" else "meters"].extend(ids)

    def key(path: tuple[str, ...]) -> str:
        return ROOT_KEY if not path else "path:" + "/".join(path)

    return [
        NodeSpec(
            key=key(path),
            name=nodes[path]["name"],
            parent=None if not path else key(path[:-1]),
            members=tuple(nodes[path]["members"]),
            meters=tuple(nodes[path]["meters"]),
        )
        for path in order
    ]


@dataclass(frozen=True, kw_only=True)
class RegistryArea:
    """An area as the registries describe it, with its member entities."""

    area_id: str
    name: str
    floor_id: str | None
    members: tuple[str, ...]


def registry_tree(
    root_name: str,
    floors: Sequence[tuple[str, str]],
    areas: Iterable[RegistryArea],
    site_meters: Sequence[str] = (),
) -> list[NodeSpec]:
    """Build the site -> floors -> areas hierarchy; empty areas and floors are left out.

    ``floors`` are ``(floor_id, name)`` in display order. Areas without a floor hang
    directly under the site.
    """
    used = sorted((area for area in areas if area.members), key=lambda a: (a.name, a.area_id))
    known_floors = {floor_id for floor_id, _ in floors}
    specs = [NodeSpec(key=ROOT_KEY, name=root_name, parent=None, meters=tuple(site_meters))]
    for floor_id, name in floors:
        if any(area.floor_id == floor_id for area in used):
            specs.append(NodeSpec(key=f"floor:{floor_id}", name=name, parent=ROOT_KEY))
    for area in used:
        parent = f"floor:{area.floor_id}" if area.floor_id in known_floors else ROOT_KEY
        specs.append(
            NodeSpec(
                key=f"area:{area.area_id}", name=area.name, parent=parent, members=area.members
            )
        )
    return specs


# --------------------------------------------------------------------------- runtime


@dataclass(slots=True)
class Counter:
    """Turns readings of a cumulative energy counter into increases that never go back.

    A reading below the last one is first only *suspected* to be a reset: if the next
    reading is back above the old level it was a glitch; otherwise counting continues from
    the lower value. A change of unit re-bases without counting anything.
    """

    unit: str | None = None
    last: float | None = None  # kWh, the level increases are counted from
    low: float | None = None  # a suspected reset's reading (kWh)

    def feed(self, kwh: float, unit: str) -> float:
        """Take one reading (already in kWh); return the increase to count (>= 0)."""
        if self.last is None or unit != self.unit:
            self.unit, self.last, self.low = unit, kwh, None
            return 0.0
        if kwh >= self.last:
            increase = kwh - self.last
            self.last, self.low = kwh, None
            return increase
        if self.low is None:
            self.low = kwh
            return 0.0
        increase = max(0.0, kwh - self.low)
        self.last, self.low = kwh, None
        return increase

    def dump(self) -> dict[str, Any]:
        """For storage."""
        return {"unit": self.unit, "last": self.last, "low": self.low}

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> Counter:
        """From storage."""
        return cls(unit=data.get("unit"), last=data.get("last"), low=data.get("low"))


@dataclass(eq=False, slots=True)
class Member:
    """A member or meter sensor."""

    entity_id: str
    node: Node
    is_meter: bool = False
    counter: Counter = field(default_factory=Counter)
    power: float | None = None  # W, its current contribution to the sums
    available: bool = False


@dataclass(eq=False, slots=True)
class Node:
    """One node of the tree with the sums of its whole subtree."""

    key: str
    name: str
    parent: Node | None
    slug: str = ""
    path: tuple[str, ...] = ()
    depth: int = 0
    children: list[Node] = field(default_factory=list)
    own_members: list[str] = field(default_factory=list)
    meters: list[str] = field(default_factory=list)
    power: float = 0.0
    power_reporting: int = 0
    energy: float = 0.0
    members: int = 0
    reporting: int = 0
    unavailable: set[str] = field(default_factory=set)
    unavailable_changes: int = 0  # grows whenever ``unavailable`` changes
    # Meter side (only meaningful when ``meters`` is not empty).
    meter_power: float = 0.0
    meter_power_reporting: int = 0
    meter_power_members: int = 0
    meter_energy: float = 0.0  # increases of the meters since counting started
    measured_energy: float = 0.0  # increases of the members over the same time
    unmeasured_energy: float = 0.0

    @property
    def power_value(self) -> float | None:
        """The summed power, or None when no power member reports."""
        if not self.power_reporting:
            return None
        return round(self.power, 3) + 0.0

    @property
    def has_meter(self) -> bool:
        """Whether the node has an unmeasured part."""
        return bool(self.meters)

    @property
    def unmeasured_power(self) -> float | None:
        """Meter power minus the members' power; None while a power meter is missing."""
        if not self.meter_power_members or self.meter_power_reporting < self.meter_power_members:
            return None
        return round(self.meter_power - self.power, 3) + 0.0


class Aggregator:
    """The tree with its members; feed it states, read the dirty nodes back."""

    def __init__(self, specs: Sequence[NodeSpec]) -> None:
        self.nodes: dict[str, Node] = {}
        self.members: dict[str, Member] = {}
        self.dirty: set[Node] = set()
        self.root: Node
        self._build(specs, {}, {})

    # -- structure

    def _build(
        self,
        specs: Sequence[NodeSpec],
        old_nodes: Mapping[str, Node],
        counters: Mapping[str, Counter],
    ) -> None:
        nodes: dict[str, Node] = {}
        members: dict[str, Member] = {}
        for spec in specs:
            parent = nodes[spec.parent] if spec.parent is not None else None
            if parent is None and nodes:
                raise ValueError(f"{spec.key}: only the first node may be the root")
            node = Node(key=spec.key, name=spec.name, parent=parent)
            if parent is None:
                node.slug = slugify(spec.name)
                node.path = (node.slug,)
            else:
                taken = {child.slug for child in parent.children}
                slug = base = slugify(spec.name)
                suffix = 2
                while slug in taken:
                    slug, suffix = f"{base}_{suffix}", suffix + 1
                node.slug, node.path, node.depth = slug, (*parent.path, slug), parent.depth + 1
                parent.children.append(node)
            if (old := old_nodes.get(spec.key)) is not None:
                node.energy = old.energy
                node.meter_energy = old.meter_energy
                node.measured_energy = old.measured_energy
                node.unmeasured_energy = old.unmeasured_energy
            for entity_id, is_meter in [(m, False) for m in spec.members] + [
                (m, True) for m in spec.meters
            ]:
                if entity_id in members:
                    continue  # the first place an entity appears wins
                member = Member(entity_id, node, is_meter=is_meter)
                if (counter := counters.get(entity_id)) is not None:
                    member.counter = counter
                members[entity_id] = member
                (node.meters if is_meter else node.own_members).append(entity_id)
            nodes[spec.key] = node
        self.nodes, self.members = nodes, members
        self.root = next(iter(nodes.values()))
        for member in members.values():
            if member.is_meter:
                continue
            for ancestor in self.ancestors(member.node):
                ancestor.members += 1
            self._mark_unavailable(member, add=True)
        self.dirty = set(nodes.values())

    def rebuild(self, specs: Sequence[NodeSpec]) -> None:
        """Take a new hierarchy; energy totals and member counters carry over by key.

        Feed every member's current state again afterwards (power sums start empty).
        """
        counters = {eid: member.counter for eid, member in self.members.items()}
        self._build(specs, self.nodes, counters)

    def ancestors(self, node: Node) -> Iterable[Node]:
        """The node and its ancestors up to the root."""
        current: Node | None = node
        while current is not None:
            yield current
            current = current.parent

    # -- updates

    def update(self, entity_id: str, raw: object, unit: str | None) -> bool:
        """Feed a member's or meter's new state; return whether it is one of ours."""
        member = self.members.get(entity_id)
        if member is None:
            return False
        value = parse_number(raw)
        if member.is_meter:
            self._update_meter(member, value, unit)
            return True
        power_factor = POWER_UNITS.get(unit) if unit is not None else None
        energy_factor = ENERGY_UNITS.get(unit) if unit is not None else None
        available = value is not None and (power_factor is not None or energy_factor is not None)
        new_power = value * power_factor if value is not None and power_factor else None
        if new_power != member.power:
            self._add_power(member.node, new_power, member.power)
            member.power = new_power
        if value is not None and energy_factor is not None and unit is not None:
            increase = member.counter.feed(value * energy_factor, unit)
            if increase > 0:
                for node in self.ancestors(member.node):
                    node.energy += increase
                    if node.meters:
                        node.measured_energy += increase
                        self._settle_unmeasured(node)
                    self.dirty.add(node)
        if available != member.available:
            member.available = available
            self._mark_unavailable(member, add=not available)
        return True

    def _add_power(self, start: Node, new: float | None, old: float | None) -> None:
        delta = (new or 0.0) - (old or 0.0)
        count = (new is not None) - (old is not None)
        for node in self.ancestors(start):
            node.power += delta
            if count:
                node.power_reporting += count
                if node.power_reporting == 0:
                    node.power = 0.0  # drop float residue
            self.dirty.add(node)

    def _mark_unavailable(self, member: Member, *, add: bool) -> None:
        for node in self.ancestors(member.node):
            if add:
                node.unavailable.add(member.entity_id)
            else:
                node.unavailable.discard(member.entity_id)
            node.reporting = node.members - len(node.unavailable)
            node.unavailable_changes += 1
            self.dirty.add(node)

    def _update_meter(self, member: Member, value: float | None, unit: str | None) -> None:
        node = member.node
        power_factor = POWER_UNITS.get(unit) if unit is not None else None
        energy_factor = ENERGY_UNITS.get(unit) if unit is not None else None
        new_power = value * power_factor if value is not None and power_factor else None
        if member.power is None and new_power is not None:
            node.meter_power_reporting += 1
        elif member.power is not None and new_power is None:
            node.meter_power_reporting -= 1
        node.meter_power += (new_power or 0.0) - (member.power or 0.0)
        if (power_factor is not None) and not member.available:
            node.meter_power_members += 1
            member.available = True  # "known as a power meter"
        member.power = new_power
        if value is not None and energy_factor is not None and unit is not None:
            increase = member.counter.feed(value * energy_factor, unit)
            if increase > 0:
                node.meter_energy += increase
                self._settle_unmeasured(node)
        self.dirty.add(node)

    @staticmethod
    def _settle_unmeasured(node: Node) -> None:
        # Never backwards: a member reporting before the meter only delays the growth.
        node.unmeasured_energy = max(
            node.unmeasured_energy, node.meter_energy - node.measured_energy
        )

    def take_dirty(self) -> set[Node]:
        """The nodes changed since the last call."""
        dirty, self.dirty = self.dirty, set()
        return dirty

    # -- persistence and publishing

    def dump(self) -> dict[str, Any]:
        """Energy totals and counters, for storage."""
        return {
            "nodes": {
                key: {
                    "energy": node.energy,
                    "meter_energy": node.meter_energy,
                    "measured_energy": node.measured_energy,
                    "unmeasured_energy": node.unmeasured_energy,
                }
                for key, node in self.nodes.items()
            },
            "counters": {eid: member.counter.dump() for eid, member in self.members.items()},
        }

    def load(self, data: Mapping[str, Any]) -> None:
        """Restore what :meth:`dump` saved (before any state is fed)."""
        for key, values in data.get("nodes", {}).items():
            if (node := self.nodes.get(key)) is not None:
                node.energy = float(values.get("energy", 0.0))
                node.meter_energy = float(values.get("meter_energy", 0.0))
                node.measured_energy = float(values.get("measured_energy", 0.0))
                node.unmeasured_energy = float(values.get("unmeasured_energy", 0.0))
        for entity_id, values in data.get("counters", {}).items():
            if (member := self.members.get(entity_id)) is not None:
                member.counter = Counter.load(values)

    def describe(self) -> dict[str, Any]:
        """The tree as nested data (for the retained MQTT tree topic and diagnostics)."""

        def walk(node: Node) -> dict[str, Any]:
            out: dict[str, Any] = {
                "name": node.name,
                "path": "/".join(node.path),
                "members": node.own_members,
            }
            if node.meters:
                out["meters"] = node.meters
            out["children"] = [walk(child) for child in node.children]
            return out

        return walk(self.root)

    def payloads(self, timestamp: str) -> list[tuple[str, dict[str, Any]]]:
        """``(topic suffix, payload)`` for every node's power and energy."""
        out: list[tuple[str, dict[str, Any]]] = []
        for node in self.nodes.values():
            base = "/".join(node.path)
            out.append(
                (
                    f"{base}/power",
                    {
                        "value": node.power_value,
                        "unit": "W",
                        "reporting": node.reporting,
                        "members": node.members,
                        "timestamp": timestamp,
                    },
                )
            )
            out.append(
                (
                    f"{base}/energy",
                    {"value": round(node.energy, 6), "unit": "kWh", "timestamp": timestamp},
                )
            )
            if node.meters:
                out.append(
                    (
                        f"{base}/unmeasured/power",
                        {"value": node.unmeasured_power, "unit": "W", "timestamp": timestamp},
                    )
                )
                out.append(
                    (
                        f"{base}/unmeasured/energy",
                        {
                            "value": round(node.unmeasured_energy, 6),
                            "unit": "kWh",
                            "timestamp": timestamp,
                        },
                    )
                )
        return out
