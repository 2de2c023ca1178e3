"""Account audiences: members are accounts, tested through their member profiles.

The members query reads the account traits table (every account with a row there is a
candidate) and tests, per account row: account traits, membership of other account
audiences, and ``users`` nodes. A ``users`` node compiles its profile-level condition as a
profile audience without the universe rule: read from a node the condition needs (profiles
that are no account's member do no harm: only members are probed), or, when nothing is
needed, from the accounts' member profiles. It then asks, per account:

* ``any``: some membership row of the account names a profile of that set;
* ``none``: none does;
* ``all``: the account has a member, and no member outside the set.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from linked_audiences.accounts import Accounts
from linked_audiences.compiler.context import PROFILE_ID, col, cte_ref, table
from linked_audiences.compiler.membership import Membership, _is_true
from linked_audiences.compiler.predicates import comparison
from linked_audiences.conditions import (
    Audience,
    AudienceCondition,
    Condition,
    GroupCondition,
    TraitCondition,
    TraitReference,
    UsersCondition,
)
from linked_audiences.sql import connect, data_type, not_null, select

ACCOUNT_ID = "account_id"
_ROW = "acct"


class AccountMembership:
    """Compiles account-level condition trees on a profile :class:`Membership`'s context."""

    def __init__(self, membership: Membership) -> None:
        self.members = membership
        self.ctx = membership.ctx
        accounts = self.ctx.graph.accounts
        assert accounts is not None, "validation requires accounts for account audiences"
        self.accounts: Accounts = accounts
        self._candidates: str | None = None

    def audience_select(self, audience: Audience, key: str = ACCOUNT_ID) -> exp.Select:
        """``SELECT account key AS key FROM account traits WHERE <condition>``."""
        account = col(_ROW, self.accounts.key)
        test = self.condition(audience.condition)
        where = [not_null(account), *([] if _is_true(test) else [test])]
        return select(
            [exp.alias_(account.copy(), key, quoted=True, copy=False)],
            table(self.accounts.traits_table, _ROW),
            where=where,
        )

    def no_entities(self) -> exp.Select:
        """The matched-entities query of an account audience: its columns, no rows (account
        audiences have no matched entities)."""
        text = data_type(self.ctx.dialect.TEXT_TYPE, self.ctx.dialect.sqlglot_dialect)
        null = exp.cast(exp.null(), text)
        return select(
            [
                exp.alias_(
                    exp.cast(col(_ROW, self.accounts.key), text.copy()), PROFILE_ID, quoted=True
                ),
                exp.alias_(null, "relationship", quoted=True, copy=False),
                exp.alias_(null.copy(), "entity_id", quoted=True, copy=False),
            ],
            table(self.accounts.traits_table, _ROW),
            where=[exp.false()],
        )

    def audience_cte(self, key: str) -> str:
        """Another account audience's members (``k0``), compiled once however often named."""
        if key not in self.ctx.audience_ctes:
            query = self.audience_select(self.ctx.audiences[key], key="k0")
            self.ctx.audience_ctes[key] = self.ctx.add_cte("acc", query)
        return self.ctx.audience_ctes[key]

    def condition(self, node: Condition) -> exp.Expr:
        builder = _BUILDERS[type(node)]
        return builder(self, node)

    def _group(self, node: GroupCondition) -> exp.Expr:
        parts = [self.condition(c) for c in node.conditions]
        return connect(exp.And if node.operator == "and" else exp.Or, parts)

    def _trait(self, node: TraitCondition) -> exp.Expr:
        dtype = self.accounts.traits[node.trait]
        storage = self.ctx.storage(self.accounts.traits_table, node.trait, dtype)
        x = self.ctx.as_declared(col(_ROW, node.trait), dtype, storage)
        reference = None
        if isinstance(node.reference, TraitReference):
            name = node.reference.trait
            ref_storage = self.ctx.storage(self.accounts.traits_table, name, dtype)
            reference = self.ctx.as_declared(col(_ROW, name), dtype, ref_storage)
            if dtype == "timestamp":
                x, storage, reference = self.ctx.same_kind(x, storage, reference, ref_storage)
        predicate = comparison(self.ctx, x, dtype, node.operator, node.value, reference, storage)
        if not node.without:
            return predicate
        return exp.Not(this=exp.Coalesce(this=predicate, expressions=[exp.false()]))

    def _audience(self, node: AudienceCondition) -> exp.Expr:
        cte = self.audience_cte(node.key)
        probe = select(
            [exp.Literal.number(1)],
            cte_ref(cte, "oa"),
            where=[exp.EQ(this=col("oa", "k0"), expression=col(_ROW, self.accounts.key))],
        )
        test: exp.Expr = exp.Exists(this=probe)
        return exp.Not(this=test) if node.without else test

    def _users(self, node: UsersCondition) -> exp.Expr:
        satisfied = self._satisfying(node.where)

        def memberships(alias: str, extra: list[exp.Expr]) -> exp.Select:
            m = self.accounts.memberships
            return select(
                [exp.Literal.number(1)],
                table(self.accounts.memberships_table, alias),
                where=[
                    exp.EQ(this=col(alias, m.account_key), expression=col(_ROW, self.accounts.key)),
                    not_null(col(alias, m.profile_key)),
                    *extra,
                ],
            )

        def member_in_set(alias: str) -> exp.Expr:
            probe = select(
                [exp.Literal.number(1)],
                cte_ref(satisfied, "ok"),
                where=[
                    exp.EQ(
                        this=col("ok", "k0"),
                        expression=col(alias, self.accounts.memberships.profile_key),
                    )
                ],
            )
            return exp.Exists(this=probe)

        if node.quantifier in ("any", "none"):
            some = exp.Exists(this=memberships("mu", [member_in_set("mu")]))
            return some if node.quantifier == "any" else exp.Not(this=some)
        has_members = exp.Exists(this=memberships("ma", []))
        outsider = exp.Exists(this=memberships("mo", [exp.Not(this=member_in_set("mo"))]))
        return exp.and_(has_members, exp.Not(this=outsider), copy=False)

    def _satisfying(self, where: Condition) -> str:
        """CTE (``k0``) of the member profiles for which ``where`` holds."""
        members = self.members
        outer = members.candidates
        members.candidates = self._member_profiles
        try:
            audience = Audience.model_construct(
                key="users", name="users", include_anonymous=True, condition=where
            )
            query = members.audience_select(audience, key="k0").query
        finally:
            members.candidates = outer
        return self.ctx.add_cte("users", query)

    def _member_profiles(self) -> str:
        """CTE of every account member's profile key (``profile_id``), once."""
        if self._candidates is None:
            m = self.accounts.memberships
            query = select(
                [exp.alias_(col("m", m.profile_key), PROFILE_ID, quoted=True, copy=False)],
                table(self.accounts.memberships_table, "m"),
                where=[not_null(col("m", m.profile_key))],
            )
            query.set("distinct", exp.Distinct())
            self._candidates = self.ctx.add_cte("account_members", query)
        return self._candidates


_BUILDERS: dict[type, Callable[..., exp.Expr]] = {
    GroupCondition: AccountMembership._group,
    TraitCondition: AccountMembership._trait,
    AudienceCondition: AccountMembership._audience,
    UsersCondition: AccountMembership._users,
}
