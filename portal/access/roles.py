"""The four roles and what distinguishes them."""

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    PRM = "prm"
    TRAINER = "trainer"
    AGENT = "agent"

    @property
    def is_staff(self) -> bool:
        """Company staff have no partner; partner roles belong to exactly one."""
        return self in STAFF_ROLES

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


STAFF_ROLES = frozenset({Role.ADMIN, Role.PRM})
PARTNER_ROLES = frozenset({Role.TRAINER, Role.AGENT})
ROLE_LABELS = {
    Role.ADMIN: "Administrator",
    Role.PRM: "Partner relationship manager",
    Role.TRAINER: "Trainer",
    Role.AGENT: "Agent",
}


class HasRole:
    """``role_enum`` and ``is_staff`` for anything with a ``role`` code (people, and the bound
    person of portal/access/bound.py)."""

    role: str

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_staff(self) -> bool:
        return self.role_enum.is_staff
