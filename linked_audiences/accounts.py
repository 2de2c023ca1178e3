"""Accounts in the data graph (Segment: groups from ``Group`` calls) for account audiences.

An account audience's members are accounts, not profiles: every account with a row in the
account traits table is a candidate, and its member profiles are the distinct non-NULL
profile keys of its rows in the memberships table.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from linked_audiences.datatypes import DataType


class AccountMemberships(BaseModel):
    """The columns of the memberships table that link an account to a profile."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    account_key: str = Field("group_id", description="Column holding the account key.")
    profile_key: str = Field(
        "canonical_segment_id", description="Column holding the member's profile key."
    )


class Accounts(BaseModel):
    """Where accounts live: one row per account in ``traits_table`` (one column per trait),
    one row per (account, profile) membership in ``memberships_table``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    traits_table: str = Field(description="Table with one row per account and its traits.")
    key: str = Field("group_id", description="Account key column of the traits table.")
    traits: dict[str, DataType] = Field(
        default_factory=dict, description="Account trait name → type."
    )
    memberships_table: str = Field(description="Table of (account, profile) memberships.")
    memberships: AccountMemberships = Field(default_factory=AccountMemberships)


__all__ = ["AccountMemberships", "Accounts"]
