"""Who may do what: roles come from config.yaml, identities are `channel:id` strings."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    MANAGER = "manager"


@dataclass(frozen=True)
class Roles:
    staff: frozenset[str]
    managers: frozenset[str]

    @classmethod
    def of(cls, staff: tuple[str, ...] | list[str], managers: tuple[str, ...] | list[str]) -> Roles:
        return cls(frozenset(staff), frozenset(managers))

    def role_of(self, who: str) -> Role:
        if who in self.managers:
            return Role.MANAGER
        if who in self.staff:
            return Role.STAFF
        return Role.CUSTOMER

    def is_staff(self, who: str) -> bool:
        """Staff and managers may run /pqr."""
        return self.role_of(who) is not Role.CUSTOMER

    def is_manager(self, who: str) -> bool:
        return self.role_of(who) is Role.MANAGER
