"""Escalation while a caller waits: app_queue penaltychange rules and mod_callcenter tier
wait rules, both as one sorted list of :class:`PenaltyRule` the engine applies on timers.

mod_callcenter's tier levels are penalties here.  With ``tier_rules_apply`` a caller
starts at the lowest level any member has; level ``L`` opens after ``L * wait_second``
(``tier_rule_wait_multiply_level``) or, without multiplying, the ``i``-th level above
the lowest after ``i * wait_second``.

A caller's window is ``(min, max, raise)``.  app_queue's raise_penalty counts a member
whose penalty is below ``raise`` as having ``raise`` (calc_metric, get_member_status):
:func:`admits` is that test; the routing core applies the same raise when it picks.
"""
from __future__ import annotations

from collections.abc import Iterable

from appliance.acd.config import PenaltyRule, QueueConfig

__all__ = ["escalation_rules", "starting_window", "admits"]


def escalation_rules(config: QueueConfig, member_penalties: Iterable[int]) -> tuple[PenaltyRule, ...]:
    """The rules for a caller joining now, sorted by ``after`` (stable for equal times)."""
    rules = list(config.penaltychange)
    if config.tier_rules_apply and config.tier_rule_wait_second > 0:
        levels = sorted(set(member_penalties))
        for i, level in enumerate(levels[1:], start=1):
            steps = level if config.tier_rule_wait_multiply_level else i
            rules.append(PenaltyRule(after=steps * config.tier_rule_wait_second, max_penalty=str(level)))
    return tuple(sorted(rules, key=lambda rule: rule.after))


def starting_window(config: QueueConfig, member_penalties: Iterable[int], unlimited: int,
                    min_penalty: int | None, max_penalty: int | None) -> tuple[int, int]:
    """The caller's first ``(min, max)`` penalty window: explicit values win, then the
    queue's defaults; tier rules start at the lowest level present."""
    low = config.min_penalty if min_penalty is None else min_penalty
    if max_penalty is not None:
        return low, max_penalty
    if config.max_penalty is not None:
        return low, config.max_penalty
    if config.tier_rules_apply and config.tier_rule_wait_second > 0:
        levels = sorted(set(member_penalties))
        if levels:
            return low, max(low, levels[0])
    return low, unlimited


def admits(penalty: int, min_penalty: int, max_penalty: int, raise_penalty: int) -> bool:
    """Does a member with ``penalty`` fall in the caller's window, once raised?"""
    return min_penalty <= max(penalty, raise_penalty) <= max_penalty
