"""Ring strategies: app_queue's and mod_callcenter's names, one behaviour each.

Every strategy lets lower penalties ring first (except wrandom, where the penalty
weighs a random draw) and, within a caller's round, agents it has not rung yet first.
Ties go to configured order.
"""
from __future__ import annotations

from typing import NamedTuple

from appliance.errors import BadInput
from cython_ext.acdcore import STRATEGY_CODES

__all__ = ["Strategy", "STRATEGIES", "ALIASES", "STRATEGY_NAMES", "resolve"]


class Strategy(NamedTuple):
    name: str
    doc: str

    @property
    def code(self) -> int:
        """The code cython_ext.acdcore understands."""
        return STRATEGY_CODES[self.name]


STRATEGIES: dict[str, Strategy] = {s.name: s for s in (
    Strategy("ringall", "ring every free agent at the best penalty at once; the first to answer takes the call"),
    Strategy("leastrecent", "ring the agent whose last call (in any queue) ended longest ago; never-called agents first"),
    Strategy("fewestcalls", "ring the agent who has answered the fewest calls in this queue"),
    Strategy("least-talk-time", "ring the agent with the least talk time so far, over all queues"),
    Strategy("random", "ring a random free agent at the best penalty"),
    Strategy("wrandom", "ring the agent with the lowest random draw in [0, (1 + penalty) * 1000): penalty as weight"),
    Strategy("rrmemory", "round robin in the order agents were added, starting after the agent offered last"),
    Strategy("rrordered", "round robin in configured order, starting after the agent offered last"),
    Strategy("linear", "ring agents one at a time in configured order, starting from the top for every caller"),
    Strategy("ring-progressively", "like linear, but each ringing agent keeps ringing while the next one is added"),
)}

# mod_callcenter's names (and app_queue's synonyms) for the same behaviours.
ALIASES: dict[str, str] = {
    "ring-all": "ringall",
    "longest-idle-agent": "leastrecent",
    "agent-with-fewest-calls": "fewestcalls",
    "agent-with-least-talk-time": "least-talk-time",
    "round-robin": "rrmemory",
    "sequentially-by-agent-order": "linear",
    "top-down": "linear",
}

STRATEGY_NAMES: tuple[str, ...] = tuple(sorted([*STRATEGIES, *ALIASES]))


def resolve(name: str) -> Strategy:
    """The strategy called ``name`` (canonical or alias); BadInput if there is none."""
    canonical = ALIASES.get(name, name)
    try:
        return STRATEGIES[canonical]
    except KeyError:
        raise BadInput(f"strategy {name!r} does not exist (known: {', '.join(STRATEGY_NAMES)})") from None
