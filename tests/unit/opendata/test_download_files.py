"""Whole-dataset downloads are kept as files after the first complete stream, per data version."""

from __future__ import annotations

from pathlib import Path

from cityos.opendata import files
from tests.unit.datastore.conftest import csv_bytes
from tests.unit.opendata import open_world
from tests.unit.opendata.open_world import OpenWorld

ow = open_world.ow


def _kept(ow: OpenWorld, rid: str, fmt: str) -> list[Path]:
    folder = files.root(ow.w.app.state.settings.data_dir) / rid
    return sorted(folder.glob(f"*.{fmt}")) if folder.exists() else []


def _download(ow: OpenWorld, rid: str, fmt: str = "csv", **params: str) -> bytes:
    answer = ow.client.get(f"/api/v1/open/datasets/{ow.code(rid)}/download.{fmt}", params=params)
    assert answer.status_code == 200, answer.text
    assert "filename*=UTF-8''" in answer.headers["content-disposition"]
    return answer.content


def test_the_second_download_is_the_kept_file(ow: OpenWorld) -> None:
    first = _download(ow, ow.open_id)
    kept = _kept(ow, ow.open_id, "csv")
    assert len(kept) == 1 and kept[0].read_bytes() == first
    assert _download(ow, ow.open_id) == first
    assert _download(ow, ow.open_id, "json") and len(_kept(ow, ow.open_id, "json")) == 1


def test_a_new_load_makes_a_new_file_and_drops_the_old(ow: OpenWorld) -> None:
    first = _download(ow, ow.open_id)
    old = _kept(ow, ow.open_id, "csv")
    more = ["station,district,aqi", "新站,美兰区,77"]
    assert ow.w.upload(ow.open_id, csv_bytes(more), mode="append").status_code == 201
    second = _download(ow, ow.open_id)
    assert second != first and "新站" in second.decode("utf-8-sig")
    now = _kept(ow, ow.open_id, "csv")
    assert len(now) == 1 and now != old and now[0].read_bytes() == second


def test_filtered_downloads_are_not_kept(ow: OpenWorld) -> None:
    body = _download(ow, ow.open_id, district="美兰区")
    assert "美兰区" in body.decode("utf-8-sig")
    assert _kept(ow, ow.open_id, "csv") == []


def test_an_interrupted_stream_leaves_no_file(tmp_path: Path) -> None:
    final = tmp_path / "r1" / "v1.csv"
    stream = files.tee(iter([b"a,b\r\n", b"1,2\r\n"]), final)
    assert next(stream) == b"a,b\r\n"
    stream.close()  # the client went away
    assert not final.exists() and list(final.parent.iterdir()) == []
    assert (
        b"".join(files.tee(iter([b"x\r\n"]), final)) == b"x\r\n" and final.read_bytes() == b"x\r\n"
    )
