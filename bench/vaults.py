# ruff: noqa: T201  (benchmarks report on stdout)
"""Vault crypto and key rotation: open and seal per item, and rotating 10,000 items.

- open: unwrap the item's data key with the key-encryption key, then decrypt one field
  (AES-256-GCM both), as a fill or a reveal does. "crypto" is the bare envelope
  (vaults_app.crypto); "item" is vaults_app.items.open_item on a model instance (building the
  associated data from the row), still without a database round trip.
- seal: a fresh data key, wrapped, and two fields encrypted (a login's password and TOTP
  secret). "item" is vaults_app.items.seal_item minus the wrap-count update (a database write).
- rotation: `manage.py rotate_vault_keys` on 10,000 logins in a throwaway SQLite database
  (batches of 500, each one transaction), timed end to end, plus the same rewrap done in
  memory only, to show the crypto's share.
- fill through the API: `POST /page/execute` filling the test site's password field with the
  vault placeholder (resolved, audited and masked in the worker) against a plain fill of the same
  field with a literal value, on one session, interleaved. Goal: within 5 ms of the plain fill.

Run: .venv/bin/python bench/vaults.py [--runs 5000] [--items 10000] [--fills 60]
"""

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

GOAL_OPEN_SEAL_P50_US = 50.0
GOAL_ROTATION_ITEMS_PER_S = 5000.0
GOAL_FILL_EXTRA_MS = 5.0


def fill_benchmark(fills: int) -> dict:
    """A vault fill against a plain fill, through the API, on the test site's login page."""
    import time as clock

    from django.conf import settings

    from tests.support.site import TestSite

    key = common.create_api_key(username="fills")
    with TestSite() as site:
        settings.PERISCOPE_EGRESS_ALLOW = f"127.0.0.1:{site.port}"
        live = common.start_live_server()
        client = common.api_client(key)
        api = live.api_url
        try:
            vault_id = client.post(f"{api}/vaults/create", json={"name": "bench"}).json()[
                "vault_id"
            ]
            client.post(
                f"{api}/vaults/{vault_id}/credentials",
                json={
                    "url": "127.0.0.1",
                    "credentials": {"email": "bench@example.test", "password": "bench-secret-1"},
                },
            )
            session = client.post(f"{api}/sessions/start", json={"vault_id": vault_id}).json()[
                "session_id"
            ]
            execute = f"{api}/sessions/{session}/page/execute"
            client.post(execute, json={"type": "goto", "url": f"{site.url}/login.html"})
            samples: dict[str, list[float]] = {"plain fill": [], "vault fill": []}
            for round_no in range(fills + 5):
                order = (
                    ["plain fill", "vault fill"] if round_no % 2 else ["vault fill", "plain fill"]
                )
                for name in order:
                    value = "mycoolpassword" if name == "vault fill" else f"typed-{round_no}"
                    time.sleep(0.15)  # the previous step's screenshot is off the clock
                    t0 = clock.perf_counter()
                    result = client.post(
                        execute, json={"type": "fill", "selector": "#password", "value": value}
                    ).json()
                    elapsed = (clock.perf_counter() - t0) * 1000
                    assert result["success"], result
                    if round_no >= 5:
                        samples[name].append(elapsed)
        finally:
            client.close()
            live.stop()
    return samples


def timed_us(fn, runs: int, warmup: int = 200) -> list[float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - t0) / 1000)
    return samples


def crypto_benchmarks(runs: int) -> dict:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from vaults_app import crypto
    from vaults_app.crypto import ItemContext

    kek = AESGCM(os.urandom(32))
    ctx = ItemContext(
        team_id="8a1f0b4e-2c3d-4e5f-8a9b-0c1d2e3f4a5b",
        vault_id="1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
        item_id="9f8e7d6c-5b4a-4c3d-9e2f-1a0b9c8d7e6f",
    )
    dek = crypto.new_data_key()
    wrapped = crypto.wrap_data_key(kek, dek, ctx)
    blob = crypto.seal_field(dek, ctx, "password", "correct horse battery staple")

    def open_once():
        crypto.open_field(crypto.unwrap_data_key(kek, wrapped, ctx), ctx, "password", blob)

    def seal_once():
        new = crypto.new_data_key()
        crypto.wrap_data_key(kek, new, ctx)
        crypto.seal_fields(
            new,
            ctx,
            {"password": "correct horse battery staple", "mfa_secret": "JBSWY3DPEHPK3PXP" * 2},
        )

    return {"open (crypto)": timed_us(open_once, runs), "seal (crypto)": timed_us(seal_once, runs)}


def item_benchmarks(runs: int, vault) -> dict:
    from vaults_app import crypto
    from vaults_app.items import item_context, open_item
    from vaults_app.models import VaultCredential
    from vaults_app.unseal import vault_keyring

    keyring = vault_keyring()
    item = VaultCredential(vault=vault, url="example.com", username="u")
    values = {"password": "correct horse battery staple", "mfa_secret": "JBSWY3DPEHPK3PXP" * 2}

    def seal_once():  # items.seal_item without its wrap-count UPDATE (a database write)
        ctx = item_context(item, vault.team_id)
        dek = crypto.new_data_key()
        item.kek_id = keyring.active
        item.wrapped_dek = crypto.wrap_data_key(keyring.aead(keyring.active), dek, ctx)
        sealed = crypto.seal_fields(dek, ctx, values)
        item.password_ct, item.mfa_secret_ct = sealed["password"], sealed["mfa_secret"]

    seal_once()

    def open_once():
        open_item(keyring, item, vault.team_id, ("password",))

    return {"open (item)": timed_us(open_once, runs), "seal (item)": timed_us(seal_once, runs)}


def rotation_benchmark(vault, items: int) -> dict:
    from django.core.management import call_command

    from tests.vaults_app.helpers import bulk_logins
    from vaults_app import crypto
    from vaults_app.items import item_context
    from vaults_app.models import VaultCredential
    from vaults_app.rotation import items_per_key
    from vaults_app.unseal import vault_keyring

    t0 = time.perf_counter()
    bulk_logins(vault, items)
    fill_s = time.perf_counter() - t0
    old = vault_keyring()

    # The crypto alone: rewrap every data key in memory.
    rows = list(
        VaultCredential.objects.select_related("vault").only(
            "id", "vault__team_id", "vault_id", "schema_version", "wrapped_dek"
        )
    )
    new_kek = old.with_new_active_key()
    new_aead = new_kek.aead(new_kek.active)
    t0 = time.perf_counter()
    for row in rows:
        crypto.rewrap_data_key(
            old.aead(old.active),
            new_aead,
            bytes(row.wrapped_dek),
            item_context(row, row.vault.team_id),
        )
    crypto_s = time.perf_counter() - t0

    out = io.StringIO()
    t0 = time.perf_counter()
    call_command("rotate_vault_keys", "--batch-size", "500", stdout=out, stderr=out)
    rotation_s = time.perf_counter() - t0
    active = vault_keyring().active
    counts = items_per_key()
    assert counts == {active: items}, counts  # every item moved
    return {
        "items": items,
        "insert_s": fill_s,
        "rotation_s": rotation_s,
        "items_per_s": items / rotation_s,
        "rewrap_crypto_only_s": crypto_s,
        "rewrap_crypto_items_per_s": items / crypto_s,
        "command_output": out.getvalue().strip().splitlines()[-1],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--fills", type=int, default=60)
    args = parser.parse_args()

    keyring_dir = tempfile.mkdtemp(prefix="periscope-bench-keyring-")
    tmp = common.bootstrap_django(
        PERISCOPE_VAULT_KEYRING_FILE=str(Path(keyring_dir) / "vault-keyring.json")
    )
    try:
        from django.core.management import call_command

        from vaults_app import services
        from vaults_app.actors import system_actor

        call_command("vault_keyring", "create", stdout=io.StringIO())
        from teams_app.models import Team

        common.create_api_key()
        team = Team.objects.get(name="Bench")
        vault = services.vault_create(actor=system_actor(team), name="bench")

        samples = {**crypto_benchmarks(args.runs), **item_benchmarks(args.runs, vault)}
        rotation = rotation_benchmark(vault, args.items)
        fills = fill_benchmark(args.fills)
    finally:
        common.cleanup(tmp)
        common.cleanup(Path(keyring_dir))

    summaries = {name: common.summary(values) for name, values in samples.items()}
    print(
        f"\nVault crypto, {args.runs} runs each (microseconds; goal: p50 under {GOAL_OPEN_SEAL_P50_US:.0f})\n"
    )
    common.print_table(
        ["operation", "p50 µs", "p95 µs", "min µs", "max µs", "goal met"],
        [
            [
                name,
                s["p50"],
                s["p95"],
                s["min"],
                s["max"],
                "yes" if s["p50"] < GOAL_OPEN_SEAL_P50_US else "NO",
            ]
            for name, s in summaries.items()
        ],
    )
    fill_summaries = {name: common.summary(values) for name, values in fills.items()}
    extra = fill_summaries["vault fill"]["p50"] - fill_summaries["plain fill"]["p50"]
    print(f"\nFilling the test site's password field through the API, {args.fills} each (ms)\n")
    common.print_table(
        ["fill", "p50 ms", "p95 ms"],
        [[name, s["p50"], s["p95"]] for name, s in fill_summaries.items()],
    )
    print(
        f"vault fill adds {extra:.1f} ms at p50 (goal <= {GOAL_FILL_EXTRA_MS:.0f} ms: "
        f"{'met' if extra <= GOAL_FILL_EXTRA_MS else 'MISSED'})"
    )
    print(f"\nKey rotation of {rotation['items']:,} items (SQLite, batches of 500)\n")
    common.print_table(
        ["what", "seconds", "items/s", "goal"],
        [
            [
                "rotate_vault_keys, end to end",
                rotation["rotation_s"],
                rotation["items_per_s"],
                f">= {GOAL_ROTATION_ITEMS_PER_S:,.0f}/s: {'met' if rotation['items_per_s'] >= GOAL_ROTATION_ITEMS_PER_S else 'MISSED'}",
            ],
            [
                "rewrap crypto only (in memory)",
                rotation["rewrap_crypto_only_s"],
                rotation["rewrap_crypto_items_per_s"],
                "",
            ],
        ],
    )
    common.write_results(
        "vaults",
        {
            **common.environment(),
            "parameters": {"runs": args.runs, "items": args.items, "batch_size": 500},
            "goals": {
                "open_seal_p50_us": GOAL_OPEN_SEAL_P50_US,
                "rotation_items_per_s": GOAL_ROTATION_ITEMS_PER_S,
            },
            "summaries_us": summaries,
            "rotation": rotation,
            "fill_through_api_ms": {
                **fill_summaries,
                "vault_fill_extra_p50": extra,
                "goal_extra_ms": GOAL_FILL_EXTRA_MS,
            },
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
