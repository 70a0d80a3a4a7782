"""Property: any sequence of buy / pay / withdraw / cease keeps the register lawful."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, example, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.errors import PortalError
from portal.models import Certificate, CertificateState
from portal.services.membership import leaving
from portal.services.shares import ledger, orders, withdrawals
from portal.services.shares.payments import Payment
from portal.services.shares.share_types import find_type

from ..factories import fake_certificate, waiting_orders

CAP_MINOR = 10_000  # €100 per member, low enough for sequences to reach it

# Mostly lawful multiples of five, sometimes any number, so both paths are exercised.
QUANTITY = st.one_of(st.integers(1, 12).map(lambda n: 5 * n), st.integers(1, 60))

# Ceasing ends a member's story, so it comes up least; buying and paying most.
KIND = st.integers(0, 9).map(
    lambda n: ("buy", "buy", "buy", "pay", "pay", "pay", "withdraw", "withdraw", "cease", "buy")[n]
)
STEPS = st.lists(
    st.tuples(KIND, st.integers(0, 1), st.sampled_from(["membership", "supporter"]), QUANTITY),
    min_size=4,
    max_size=24,
)


def step(db, staff, pay, people, action):
    """Run one action through the services; a refusal is a PortalError and changes nothing."""
    kind, who = action[0], people[action[1]]
    if kind == "buy":
        orders.place_order(db, who, find_type(db, action[2]), action[3], actor=None)
    elif kind == "pay":
        waiting = waiting_orders(db, who)
        if waiting:
            pay(waiting[0])
    elif kind == "withdraw":
        withdrawal = withdrawals.request_withdrawal(
            db, who, find_type(db, "supporter"), action[3], reason="", actor=staff
        )
        withdrawals.approve_withdrawal(db, withdrawal, decision_reference="B", actor=staff)
        withdrawals.record_repayment(
            db,
            withdrawal,
            Payment(withdrawal.amount_minor, date(2026, 11, 20), "bank_transfer", "OUT"),
            actor=staff,
            render=fake_certificate,
        )
    else:
        leaving.cease_member(db, who, actor=staff, note="Ceased")


def assert_lawful(db, people):
    membership = find_type(db, "membership")
    for member in people:
        assert ledger.capital(db, member) <= CAP_MINOR
        assert 0 <= ledger.holding(db, member, membership) <= membership.max_quantity
    held = ledger.holdings(db)
    assert all(quantity > 0 for quantity in held.values())
    on_certificates: dict[tuple[int, int], int] = {}
    for certificate in db.scalars(
        select(Certificate).where(Certificate.state == CertificateState.VALID)
    ):
        key = (certificate.member_id, certificate.share_type_id)
        on_certificates[key] = on_certificates.get(key, 0) + certificate.quantity
    assert on_certificates == held  # the valid certificates describe the holdings exactly


@hyp_settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions=STEPS)
# Always walk the whole path once: a second membership share (refused: the one paid at
# admission is the most a member holds), buy, pay, withdraw part, withdraw the rest, cease.
@example(
    actions=[
        ("buy", 0, "membership", 1),
        ("pay", 0, "", 0),
        ("buy", 0, "supporter", 30),
        ("pay", 0, "", 0),
        ("withdraw", 0, "", 10),
        ("withdraw", 0, "", 20),
        ("cease", 0, "", 0),
    ]
)
def test_any_sequence_keeps_holdings_lawful_and_the_chain_whole(
    db, coop, reviewer, make_member, pay, actions
):
    savepoint = db.begin_nested()
    try:
        coop.max_holding_minor = CAP_MINOR
        # Admitted by paying their membership share, as the co-op admits members.
        people = [make_member(name=f"Holder {n}").load(db) for n in (0, 1)]
        membership = find_type(db, "membership")
        assert [ledger.holding(db, member, membership) for member in people] == [1, 1]
        for action in actions:
            inner = db.begin_nested()
            try:
                step(db, reviewer, pay, people, action)
            except PortalError:
                inner.rollback()  # a refused action leaves nothing behind
            else:
                inner.commit()
            assert_lawful(db, people)
        assert ledger.check_register(db).ok
    finally:
        savepoint.rollback()
