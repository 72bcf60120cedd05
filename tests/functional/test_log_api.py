"""The transparency log over HTTP: checkpoints, keys, receipts, tlog-tiles, and offline verification."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from likeness_ledger.cli import app
from likeness_ledger.runtime import Runtime
from likeness_ledger.transparency import log, merkle, tiles
from likeness_ledger.transparency.checkpoint import verify_checkpoint
from likeness_ledger.transparency.errors import VerificationError
from likeness_ledger.transparency.receipts import Receipt
from likeness_ledger.transparency.tiles import TILE_WIDTH, TileRef


def performer_id(as_: Any, legal_name: str) -> str:
    listed = as_("union").get("/performers", params={"limit": 500}).json()["items"]
    return str(next(p["id"] for p in listed if p["legal_name"] == legal_name))


def test_checkpoint_and_key(as_: Any, client: TestClient) -> None:
    assert as_("maya").get("/log/checkpoint").status_code == 404  # nothing signed yet
    assert as_("maya").post("/log/checkpoint").status_code == 403
    signed = as_("union").post("/log/checkpoint")
    assert signed.status_code == 200, signed.text
    assert signed.headers["content-type"].startswith("text/plain")
    key = as_("northlight").get("/log/key")
    assert key.status_code == 200
    checkpoint, verified = verify_checkpoint(as_("maya").get("/log/checkpoint").text, [key.text.strip()])
    assert checkpoint.size > 0 and verified
    assert client.get("/log/checkpoint").status_code == 401  # authenticated like every route


def test_receipt_visibility(as_: Any) -> None:
    maya = performer_id(as_, "Maya Okafor")
    listed = as_("maya").get(f"/performers/{maya}/receipts")
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert page["total"] >= 3  # her performer record, her account, her scan session, ...
    indices = [item["leaf_index"] for item in page["items"]]
    assert indices == sorted(indices)
    key = as_("maya").get("/log/key").text.strip()
    for item in page["items"]:
        receipt = Receipt.from_dict(item)
        receipt.verify([key])
        assert maya in receipt.event["performer_ids"]
    mine = indices[0]
    assert as_("maya").get(f"/log/receipts/{mine}").status_code == 200
    assert as_("union").get(f"/log/receipts/{mine}").status_code == 200
    assert as_("admin").get(f"/log/receipts/{mine}").status_code == 200
    assert as_("jon").get(f"/log/receipts/{mine}").status_code == 404  # another performer's event
    assert as_("northlight").get(f"/log/receipts/{mine}").status_code == 404
    assert as_("jon").get(f"/performers/{maya}/receipts").status_code == 404
    assert as_("union").get("/log/receipts/999999").status_code == 404
    ruth_events = as_("alder-estate").get(f"/performers/{performer_id(as_, 'Ruth Alder')}/receipts")
    assert ruth_events.status_code == 200 and ruth_events.json()["total"] >= 2


def test_the_receipt_page_is_paged(as_: Any) -> None:
    maya = performer_id(as_, "Maya Okafor")
    whole = as_("union").get(f"/performers/{maya}/receipts").json()
    second = as_("union").get(f"/performers/{maya}/receipts", params={"limit": 1, "offset": 1}).json()
    assert second["total"] == whole["total"]
    assert [item["leaf_index"] for item in second["items"]] == [whole["items"][1]["leaf_index"]]


def _monitor_root(as_: Any, size: int) -> bytes:
    """What an outside monitor does: rebuild the tree of ``size`` leaves from tiles only."""
    reader = as_("northlight")

    def fetch(ref: TileRef) -> bytes:
        response = reader.get("/log/" + tiles.tile_path(ref))
        assert response.status_code == 200, (tiles.tile_path(ref), response.text)
        return bytes(response.content)

    leaf_hashes: list[bytes] = []
    for index in range((size + TILE_WIDTH - 1) // TILE_WIDTH):
        width = min(TILE_WIDTH, size - index * TILE_WIDTH)
        data = fetch(TileRef(level=0, index=index, width=width))
        assert len(data) == 32 * width
        leaf_hashes.extend(data[i : i + 32] for i in range(0, len(data), 32))
    # The level-1 tile must hold the roots of every complete 256-leaf subtree.
    complete = size // TILE_WIDTH
    if complete:
        level1 = fetch(TileRef(level=1, index=0, width=complete))
        for k in range(complete):
            assert level1[32 * k : 32 * (k + 1)] == merkle.root(leaf_hashes[k * TILE_WIDTH : (k + 1) * TILE_WIDTH])
    return merkle.root(leaf_hashes)


def test_a_monitor_recomputes_the_checkpoint_root_from_tiles(as_: Any, runtime: Runtime) -> None:
    with runtime.db.write() as session:
        log.append_many(session, [{"type": "test.filler", "n": n} for n in range(600)])
    note = as_("union").post("/log/checkpoint").text
    key = as_("maya").get("/log/key").text.strip()
    checkpoint, _ = verify_checkpoint(note, [key])
    assert checkpoint.size > 2 * TILE_WIDTH
    assert _monitor_root(as_, checkpoint.size) == checkpoint.root_hash
    # Entry bundles hash to the level-0 tile (union and admins only: events hold personal data).
    ref = TileRef(level=None, index=0, width=TILE_WIDTH)
    assert as_("northlight").get("/log/" + tiles.tile_path(ref)).status_code == 403
    bundle = as_("union").get("/log/" + tiles.tile_path(ref))
    assert bundle.status_code == 200
    entries = tiles.split_bundle(bundle.content)
    level0 = as_("union").get("/log/tile/0/000").content
    assert b"".join(merkle.leaf_hash(entry) for entry in entries) == level0
    assert json.loads(entries[0])["type"].endswith(".created")


def test_tile_paths_beyond_the_log_or_malformed(as_: Any) -> None:
    reader = as_("maya")
    assert reader.get("/log/tile/0/000").status_code == 404  # the demo log has fewer than 256 leaves
    assert reader.get("/log/tile/0/000.p/1").status_code == 200
    assert reader.get("/log/tile/0/x001/000").status_code == 404
    malformed = ["0/0", "01/000", "0/000.p/256", "0/000.p/0", "0/x000/001", "64/000", "0/001/002", "entries/0.p/1"]
    for bad in (f"/log/tile/{path}" for path in malformed):
        assert reader.get(bad).status_code == 422, bad


@pytest.mark.parametrize(("index", "path"), [(0, "000"), (5, "005"), (1234067, "x001/x234/067"), (1000, "x001/000")])
def test_tile_index_encoding(index: int, path: str) -> None:
    assert tiles.encode_index(index) == path
    assert tiles.parse_index(path) == index


def test_done_when_an_api_receipt_verifies_elsewhere_with_only_the_key(
    as_: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A receipt from the running API, checked by `likeness verify` in an empty folder with only the key."""
    created = as_("union").post(
        "/performers",
        json={"legal_name": "Iris Vega", "category": "principal", "union_member_id": "SAG-900001"},
    )
    assert created.status_code == 201, created.text
    performer = created.json()["id"]
    page = as_("union").get(f"/performers/{performer}/receipts").json()
    [item] = page["items"]
    assert item["event"]["type"] == "performers.created" and item["event"]["actor"] == "union"
    response = as_("union").get(f"/log/receipts/{item['leaf_index']}")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    receipt_file = elsewhere / "receipt.json"
    receipt_file.write_bytes(response.content)
    key_file = elsewhere / "log.vkey"
    key_file.write_bytes(as_("maya").get("/log/key").content)
    monkeypatch.chdir(elsewhere)
    empty = elsewhere / "no-data"  # a different, empty data folder: nothing but the key is trusted

    def verify(path: Path) -> Any:
        return CliRunner().invoke(app, ["--data-dir", str(empty), "verify", str(path), "--key", str(key_file)])

    ok = verify(receipt_file)
    assert ok.exit_code == 0, ok.output
    assert f"leaf {item['leaf_index']}" in ok.stdout
    assert not empty.exists()  # verify never opened a data folder
    raw = receipt_file.read_bytes()
    key = key_file.read_text().strip()
    # Every single byte flipped (two ways) must fail through the library ...
    for position in range(len(raw)):
        for mask in (0x01, 0x20):
            tampered = bytearray(raw)
            tampered[position] ^= mask
            with pytest.raises(VerificationError):
                Receipt.from_json(bytes(tampered)).verify([key])
    # ... and a sample of them through the CLI, including bytes inside the hex proof and the base64 signature.
    proof_at = raw.index(item["inclusion_proof"][0].encode()) if item["inclusion_proof"] else raw.index(b"leaf_index")
    signature_at = raw.index("\u2014 ".encode()) + 40  # inside the base64 of the note's signature line
    rng = random.Random(5)
    for position in [proof_at, proof_at + 17, signature_at, signature_at + 30, *rng.sample(range(len(raw)), 8)]:
        tampered = bytearray(raw)
        tampered[position] ^= 0x01
        bad = elsewhere / f"bad-{position}.json"
        bad.write_bytes(bytes(tampered))
        result = verify(bad)
        assert result.exit_code != 0, (position, result.output)


def test_cli_writes_a_performers_receipts(as_: Any, runtime: Runtime, tmp_path: Path) -> None:
    maya = performer_id(as_, "Maya Okafor")
    out = tmp_path / "receipts"
    base = ["--data-dir", str(runtime.settings.data_dir), "--database-url", runtime.settings.database_url]
    result = CliRunner().invoke(app, [*base, "log", "receipts", "--performer-id", maya, "--out", str(out)])
    assert result.exit_code == 0, result.output
    files = sorted(out.glob("receipt-*.json"))
    expected = as_("maya").get(f"/performers/{maya}/receipts").json()["total"]
    assert len(files) == expected
    key = log.verifier_key(runtime.settings)
    for path in files:
        Receipt.from_json(path.read_bytes()).verify([key])
    bad = CliRunner().invoke(app, [*base, "log", "receipts", "--performer-id", "nope", "--out", str(out)])
    assert bad.exit_code == 2 and "--performer-id" in bad.stderr


def test_serve_runs_the_checkpoint_signer_at_the_interval(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """`likeness serve` with LIKENESS_CHECKPOINT_INTERVAL signs while the server runs, and stops with it."""
    import threading  # noqa: PLC0415

    import uvicorn  # noqa: PLC0415

    with runtime.db.write() as session:
        log.append_many(session, [{"type": "test.filler", "n": 1}])
    seen: dict[str, object] = {}

    def fake_run(app: object, **kwargs: object) -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with runtime.db.read() as session:
                if log.latest_checkpoint(session) is not None:
                    break
            time.sleep(0.02)
        seen["signers"] = [t.name for t in threading.enumerate() if t.name == "checkpoint-signer"]
        with runtime.db.read() as session:
            seen["note"] = log.latest_checkpoint(session)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    monkeypatch.setenv("LIKENESS_CHECKPOINT_INTERVAL", "0.05")
    base = ["--data-dir", str(runtime.settings.data_dir), "--database-url", runtime.settings.database_url]
    result = CliRunner().invoke(app, [*base, "serve"])
    assert result.exit_code == 0, result.output
    assert seen["signers"] == ["checkpoint-signer"]
    assert isinstance(seen["note"], str) and seen["note"].split("\n")[1] == "1"
    assert not any(t.name == "checkpoint-signer" for t in threading.enumerate())  # stopped with the server
