"""Real notebooks run by real marimo 0.25.2 with celltime enabled as its cache store."""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

from conftest import Workspace, tokens

BLOCK_CELLS = {"ctx_block", "expensive", "json_block"}


def by_cell(rows: list[dict]) -> dict[str, list[dict]]:
    cells: dict[str, list[dict]] = {}
    for row in rows:
        cells.setdefault(row["cell"], []).append(row)
    return cells


def verify_passes(ws: Workspace) -> None:
    """`celltime verify` exits 0 and reports no problem in any notebook."""
    reports = json.loads(ws.celltime("verify", "--json").stdout)
    assert reports, "verify checked no notebook"
    assert all(r["problems"] == [] and r["entries"] > 0 for r in reports), reports


def test_pickle_and_json_runs_are_recorded_with_their_code_and_served(
    workspace: Workspace,
) -> None:
    workspace.add("blocks.py")
    first = tokens(workspace.run("blocks.py").stdout, "TOKENS")

    rows = workspace.ls()
    assert {r["notebook"] for r in rows} == {"blocks"}
    cells = by_cell(rows)
    assert set(cells) == BLOCK_CELLS
    assert all(len(runs) == 1 for runs in cells.values())
    assert all(r["size"] > 0 and r["last_used"] is None for r in rows)
    assert workspace.cache_files() == [], "pickle and json never touch marimo's folder"

    ctx = cells["ctx_block"][0]
    facts = workspace.facts(ctx["id"])
    assert facts["marimo key"].startswith("ctx_block/C_")
    assert facts["marimo key"].endswith(".pickle")
    code = workspace.part(ctx["id"], "code").decode()
    assert 'with mo.persistent_cache(name="ctx_block"):' in code
    assert "squares = [i * i for i in range(n_items)]" in code
    # A decorated function's run carries the code of the cell that defines and calls it.
    expensive = cells["expensive"][0]
    assert "out = expensive(3)" in workspace.part(expensive["id"], "code").decode()
    json_run = cells["json_block"][0]
    assert workspace.facts(json_run["id"])["marimo key"].endswith(".json")
    stored_json = workspace.part(json_run["id"], "variables")
    assert stored_json.startswith(b'{\n    "defs"'), "the bytes marimo wrote, unchanged"

    second = tokens(workspace.run("blocks.py").stdout, "TOKENS")
    assert second == first, "every block was served from the store"
    rows = workspace.ls()
    assert len(rows) == 3
    assert all(r["last_used"] is not None for r in rows), "each hit is recorded as a use"
    assert workspace.cache_files() == []
    verify_passes(workspace)


def test_a_code_edit_records_a_new_run_with_its_own_code(workspace: Workspace) -> None:
    workspace.add("blocks.py")
    first = tokens(workspace.run("blocks.py").stdout, "TOKENS")
    workspace.edit("blocks.py", "squares = [i * i for", "squares = [i * i * 2 for")
    second = tokens(workspace.run("blocks.py").stdout, "TOKENS")
    assert second[0] != first[0], "the edited block ran again"
    assert second[1:3] == first[1:3], "the other blocks were served"

    runs = sorted(by_cell(workspace.ls())["ctx_block"], key=lambda r: r["created_at"])
    assert len(runs) == 2
    old, new = (workspace.part(r["id"], "code").decode() for r in runs)
    assert "i * i for" in old and "i * i * 2" not in old
    assert "i * i * 2 for" in new
    verify_passes(workspace)


def test_two_notebooks_in_one_workspace(workspace: Workspace) -> None:
    (workspace.root / "__marimo__").mkdir()
    workspace.add("blocks.py")
    workspace.add("blocks.py", "analysis/other.py")
    workspace.run("blocks.py")
    workspace.run("analysis/other.py")
    rows = workspace.ls()
    assert {r["notebook"] for r in rows} == {"blocks", "analysis/other"}
    for notebook in ("blocks", "analysis/other"):
        assert {r["cell"] for r in rows if r["notebook"] == notebook} == BLOCK_CELLS
    notebook_toml = workspace.root / "__marimo__/persist/analysis/other/notebook.toml"
    assert 'source = "analysis/other.py"' in notebook_toml.read_text()
    verify_passes(workspace)


def plugin_runs(ws: Workspace) -> list[dict]:
    """Store entries the plugin wrote (they carry marimo's key)."""
    return [r for r in ws.ls() if "marimo key" in ws.facts(r["id"])]


def test_a_lazy_run_is_one_entry_with_its_blobs_and_its_code(workspace: Workspace) -> None:
    workspace.add("lazy.py")
    first = tokens(workspace.run("lazy.py").stdout, "LAZY")
    runs = plugin_runs(workspace)
    assert [r["cell"] for r in runs] == ["lazy_block", "lazy_block"], "one entry per run"
    keys = {r["id"]: workspace.facts(r["id"])["marimo key"] for r in runs}
    run = next(r for r in runs if "lazy_list" in workspace.celltime("show", r["id"]).stdout)
    key = keys[run["id"]]
    assert key.startswith("lazy_block/C_") and key.endswith(".jsonl")
    cache = workspace.root / "__marimo__/cache"
    assert (cache / key).is_file(), "marimo wrote its own copy"
    assert workspace.part(run["id"], "variables:") == (cache / key).read_bytes()
    hash_ = key.split("/")[1].split(".")[0][2:]
    blob = (cache / "lazy_block" / hash_ / "lazy_list.pickle").read_bytes()
    assert workspace.part(run["id"], "variables:lazy_list") == blob
    code = workspace.part(run["id"], "code").decode()
    assert 'mo.persistent_cache(name="lazy_block", method="lazy")' in code
    assert "lazy_token = random.random()" in code, "the first cell's code, not the second's"

    second = tokens(workspace.run("lazy.py").stdout, "LAZY")
    assert second == first
    again = plugin_runs(workspace)
    assert {r["id"] for r in again} == {r["id"] for r in runs}, "a hit is a use, not a run"
    assert all(r["last_used"] is not None for r in again)
    verify_passes(workspace)


def test_whole_cell_runs_are_recorded_under_their_cell(workspace: Workspace) -> None:
    workspace.add("cells.py")
    (workspace.root / "pyproject.toml").write_text("[tool.marimo.runtime]\ncache_cells = true\n")
    workspace.marimo("-y", "export", "html", "cells.py", "-o", "out1.html")
    runs = plugin_runs(workspace)
    by_name = {r["cell"]: r for r in runs}
    assert "draw" in by_name, by_name.keys()
    draw = by_name["draw"]
    assert workspace.facts(draw["id"])["marimo key"].startswith("cell_cache/")
    code = workspace.part(draw["id"], "code").decode()
    assert "cell_token = random.random()" in code
    first_html = (workspace.root / "out1.html").read_text()
    assert "CELLTOKEN" in first_html

    # The next session edits the print cell and adds a cell after it: both run, the cells
    # before them are hits. (A cell's whole-cell entry is written in its teardown, on a
    # thread; the cell after it waits for that write. The very last cell's entry races the
    # kill that ends `marimo export`'s kernel, for marimo's own file as for celltime.)
    workspace.edit(
        "cells.py", 'print("CELLTOKEN", cell_token)', 'print("CELLTOKEN", cell_token, 2)'
    )
    workspace.edit(
        "cells.py",
        'if __name__ == "__main__":',
        '@app.cell\ndef _():\n    print("DONE")\n    return\n\n\nif __name__ == "__main__":',
    )
    workspace.marimo("-y", "export", "html", "cells.py", "-o", "out2.html")
    again = plugin_runs(workspace)
    assert {r["id"] for r in runs} < {r["id"] for r in again}, "old runs stay"
    edited = [
        r
        for r in again
        if 'print("CELLTOKEN", cell_token, 2)' in workspace.part(r["id"], "code").decode()
    ]
    assert len(edited) == 1, "the edited cell's run, with its new code"
    assert edited[0]["cell"] == "vblA", "an unnamed cell is known by marimo's id for it"
    draw_again = next(r for r in again if r["cell"] == "draw")
    assert draw_again["id"] == draw["id"], "a hit is no new run"
    assert draw_again["last_used"] is not None, "the hit is recorded as a use"
    token = first_html.split("CELLTOKEN")[1][:12]
    assert token in (workspace.root / "out2.html").read_text(), "the hit served the same value"
    verify_passes(workspace)


def notebook_lock(ws: Workspace, notebook: str) -> Path:
    return ws.root / "__marimo__" / "persist" / notebook / ".lock"


def test_a_busy_store_warns_once_and_marimo_carries_on(workspace: Workspace) -> None:
    workspace.add("blocks.py")
    first = tokens(workspace.run("blocks.py").stdout, "TOKENS")
    before = {r["id"] for r in workspace.ls()}
    with open(notebook_lock(workspace, "blocks"), "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        busy = workspace.run("blocks.py")
        fcntl.flock(held, fcntl.LOCK_UN)
    assert busy.stderr.count("locked by another") == 1, busy.stderr
    assert tokens(busy.stdout, "TOKENS") != first, "a busy store is a miss"
    assert {r["id"] for r in workspace.ls()} == before, "nothing written, nothing lost"
    assert tokens(workspace.run("blocks.py").stdout, "TOKENS") == first
    assert workspace.cache_files() == []
    verify_passes(workspace)


def test_a_damaged_store_warns_and_changes_nothing(workspace: Workspace) -> None:
    workspace.add("blocks.py")
    workspace.run("blocks.py")
    folder = workspace.root / "__marimo__/persist/blocks"
    before = {r["id"] for r in workspace.ls()}
    # Another machine's log segment, damaged in the middle: readable up to the bad line,
    # and no process may write to the notebook until it is repaired.
    good = (folder / "map.toml").read_text()
    segment = folder / "log" / "otherhost_00000000-20260101T000000Z-abcdef.jsonl"
    segment.parent.mkdir(exist_ok=True)
    segment.write_text('{"b3":"0000000000000000","rec":{"op":"pin"}}\n{"also": "bad"}\n')
    workspace.edit("blocks.py", "squares = [i * i for", "squares = [i * i * 3 for")
    damaged = workspace.run("blocks.py")
    assert damaged.stderr.count("celltime:") == 1, damaged.stderr
    assert "otherhost_00000000" in damaged.stderr, "the warning names the damaged file"
    assert (folder / "map.toml").read_text() == good
    assert {r["id"] for r in workspace.ls()} == before

    # A map that is not TOML at all: every read is a miss, the file stays as it was.
    segment.unlink()
    (folder / "map.toml").write_text("[map\n")
    broken = workspace.run("blocks.py")
    assert "map.toml" in broken.stderr
    assert (folder / "map.toml").read_text() == "[map\n"


def test_a_read_only_workspace_is_served_and_never_written(workspace: Workspace) -> None:
    workspace.add("blocks.py")
    first = tokens(workspace.run("blocks.py").stdout, "TOKENS")
    workspace.edit("blocks.py", "squares = [i * i for", "squares = [i * i * 5 for")
    root = str(workspace.root)
    # A read-only bind mount of the workspace in a private mount namespace (root ignores
    # permission bits, a read-only mount it cannot).
    mount = f'mount --bind {root} {root} && mount -o remount,bind,ro {root} {root} && exec "$@"'
    prefix = ["unshare", "--mount", "--map-root-user", "sh", "-c", mount, "sh"]
    before = sorted((p, p.stat().st_mtime_ns) for p in workspace.root.rglob("*") if p.is_file())
    ro = workspace.run("blocks.py", prefix=prefix)
    served = tokens(ro.stdout, "TOKENS")
    assert served[1:3] == first[1:3], "unchanged blocks were served"
    assert served[0] != first[0], "the edited block ran"
    assert ro.stderr.count("celltime:") >= 1
    after = sorted((p, p.stat().st_mtime_ns) for p in workspace.root.rglob("*") if p.is_file())
    assert after == before


def test_serve_rolls_marimo_back_to_the_run_you_liked(workspace: Workspace) -> None:
    workspace.add("blocks.py")
    first = tokens(workspace.run("blocks.py").stdout, "TOKENS")
    second = tokens(
        workspace.run("blocks.py", extra_env={"CELLTIME_RECOMPUTE": "1"}).stdout, "TOKENS"
    )
    assert second[0] != first[0]
    assert tokens(workspace.run("blocks.py").stdout, "TOKENS") == second, "the newest is served"

    runs = sorted(by_cell(workspace.ls())["ctx_block"], key=lambda r: r["created_at"])
    assert len(runs) == 2
    served = workspace.celltime("serve", runs[0]["id"][:10])
    assert "2 runs" in served.stdout
    third = tokens(workspace.run("blocks.py").stdout, "TOKENS")
    assert third[0] == first[0], "ctx_block is served its first run again"
    assert third[1:3] == second[1:3], "the other blocks keep their newest run"
    assert "served since" in workspace.facts(runs[0]["id"])
    verify_passes(workspace)


def test_status_and_disable(workspace: Workspace) -> None:
    status = workspace.celltime("marimo", "status").stdout
    assert "pickle      celltime" in status and "json        celltime" in status
    (workspace.root / "pyproject.toml").write_text('[tool.marimo.cache.store]\ntype = "file"\n')
    status = workspace.celltime("marimo", "status").stdout
    assert "untrusted" in status
    (workspace.root / "pyproject.toml").unlink()

    workspace.add("blocks.py")
    where = workspace.marimo("cache", "dir", "blocks.py").stdout
    assert str(workspace.root / "__marimo__" / "persist") in where, where

    workspace.celltime("marimo", "disable")
    config = Path(workspace.env["XDG_CONFIG_HOME"]) / "marimo" / "marimo.toml"
    assert "celltime" not in config.read_text()
    workspace.run("blocks.py")
    assert len(workspace.cache_files()) == 3, "marimo is back on its own folder"
    assert not (workspace.root / "__marimo__" / "persist").exists()


def test_a_lazy_loader_routed_through_the_store_is_one_entry_served_back(
    workspace: Workspace,
) -> None:
    workspace.add("routed.py")
    first = tokens(workspace.run("routed.py").stdout, "ROUTED")
    runs = plugin_runs(workspace)
    assert [r["cell"] for r in runs] == ["routed"]
    assert workspace.facts(runs[0]["id"])["marimo key"].endswith(".jsonl")
    assert workspace.part(runs[0]["id"], "variables:routed_list"), "the blob is a part"
    assert 'mo.cache("routed", loader=loader)' in workspace.part(runs[0]["id"], "code").decode()
    assert workspace.cache_files() == [], "nothing in marimo's folder"

    second = tokens(workspace.run("routed.py").stdout, "ROUTED")
    assert second == first, "manifest and blobs (read on marimo's threads) served back"
    assert plugin_runs(workspace)[0]["last_used"] is not None
    verify_passes(workspace)
