"""The vault audit trail: one append-only row per create, change, delete, use and reveal.

Rows carry who, what, where and why, never a value. Each team's rows form a chain: a row's MAC
is HMAC-SHA256(audit key, previous MAC + the row's canonical content), and the team's head row
holds the last sequence number and MAC. Editing a row breaks its MAC; deleting one leaves a gap
in the sequence, or a head that points past the end. `manage.py verify_vault_audit` checks it.

`audit_record` must run inside the transaction of the action it records (the head row is
locked, which also orders concurrent writers): if it fails, the action rolls back with it.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from teams_app.models import Team

from .actors import VaultActor
from .keyring import Keyring
from .models import VaultAuditEvent, VaultAuditHead

CHAINED_FIELDS = (
    "team_id",
    "seq",
    "created_at",
    "action",
    "outcome",
    "actor_kind",
    "actor_id",
    "actor_label",
    "vault_id",
    "vault_name",
    "item_id",
    "item_label",
    "field",
    "purpose",
    "detail",
    "session_id",
    "step_index",
    "target_origin",
    "prev_mac",
)


def _canonical(values: dict) -> bytes:
    def norm(value):
        if value is None:
            return None
        if hasattr(value, "isoformat"):
            return value.isoformat(timespec="microseconds")
        return str(value)

    return json.dumps(
        {name: norm(values[name]) for name in CHAINED_FIELDS}, sort_keys=True, separators=(",", ":")
    ).encode()


def _mac(audit_key: bytes, values: dict) -> str:
    return hmac.new(audit_key, _canonical(values), hashlib.sha256).hexdigest()


def _row_values(event: VaultAuditEvent) -> dict:
    return {name: getattr(event, name) for name in CHAINED_FIELDS}


def audit_record(
    *,
    keyring: Keyring,
    actor: VaultActor,
    action: str,
    outcome: str = "ok",
    vault=None,
    vault_id=None,
    vault_name: str = "",
    item=None,
    item_label: str = "",
    field: str = "",
    purpose: str = "",
    detail: str = "",
    session_id: str | None = None,
    step_index: int | None = None,
    target_origin: str = "",
) -> VaultAuditEvent:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record runs inside the transaction of the action it records")
    team = actor.team
    head, _ = VaultAuditHead.objects.get_or_create(team=team)
    head = VaultAuditHead.objects.select_for_update().get(pk=head.pk)
    event = VaultAuditEvent(
        team=team,
        seq=head.seq + 1,
        created_at=timezone.now(),
        action=action,
        outcome=outcome,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label[:200],
        vault_id=vault.pk if vault is not None else vault_id,
        vault_name=(vault.name if vault is not None else vault_name)[:100],
        item_id=item.pk if item is not None else None,
        item_label=item_label[:300],
        field=field[:100],
        purpose=purpose[:200],
        detail=detail[:300],
        session_id=(session_id or "")[:100],
        step_index=step_index,
        target_origin=target_origin[:300],
        prev_mac=head.mac,
    )
    event.mac = _mac(keyring.audit_key, _row_values(event))
    event.save(force_insert=True)
    head.seq, head.mac = event.seq, event.mac
    head.save(update_fields=["seq", "mac"])
    return event


@dataclass
class ChainProblem:
    team: str
    seq: int | None
    problem: str

    def __str__(self) -> str:
        where = f"row {self.seq}" if self.seq is not None else "chain end"
        return f"team {self.team}: {where}: {self.problem}"


def audit_verify(*, keyring: Keyring, team: Team | None = None) -> tuple[int, list[ChainProblem]]:
    """(rows checked, problems found) for one team or all of them."""
    heads = VaultAuditHead.objects.select_related("team")
    if team is not None:
        heads = heads.filter(team=team)
    checked, problems = 0, []
    for head in heads:
        name = head.team.name
        expected_seq, prev_mac = 1, ""
        rows = VaultAuditEvent.objects.filter(team_id=head.team_id).order_by("seq")
        for event in rows.iterator(chunk_size=2000):
            checked += 1
            if event.seq != expected_seq:
                problems.append(
                    ChainProblem(
                        name,
                        expected_seq,
                        f"missing (the next row present is {event.seq}): deleted",
                    )
                )
            elif event.prev_mac != prev_mac:
                problems.append(ChainProblem(name, event.seq, "does not follow the row before it"))
            values = _row_values(event)
            values["created_at"] = event.created_at
            if not hmac.compare_digest(_mac(keyring.audit_key, values), event.mac):
                problems.append(
                    ChainProblem(name, event.seq, "content does not match its MAC: edited")
                )
            expected_seq, prev_mac = event.seq + 1, event.mac
        if expected_seq - 1 != head.seq:
            problems.append(
                ChainProblem(
                    name,
                    None,
                    f"the chain should end at row {head.seq} but ends at {expected_seq - 1}: "
                    "rows at the end were deleted",
                )
            )
        elif head.seq and not hmac.compare_digest(prev_mac, head.mac):
            problems.append(
                ChainProblem(name, None, "the last row is not the one the chain head recorded")
            )
    return checked, problems
