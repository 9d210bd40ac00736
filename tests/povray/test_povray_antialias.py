"""Anti-aliasing (issue 16): +A, +AM1/+AM2, +R, +J as POV-Ray 3.7 does them -- against
POV-Ray's own renders, byte-identical whatever the tiling (natively and through a hub with
workers), the same options on povray-render, povray-server and cpushare-povray render."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import render
from test_povray_distributed import hub_and_workers  # noqa: F401 (the fixture: a hub, 2 workers)

from cpushare_mq.native import find_binary
from cpushare_mq.povray.aa_options import pov_style
from cpushare_mq.povray.cli import main
from cpushare_mq.povray.image import compare, read_png
from cpushare_mq.povray.tiles import TILE_AA_BYTES, Tile

AA = Path(__file__).resolve().parent.parent / "data" / "scenes" / "aa"
OPTIONS = {"A": ["+A"], "A01AM2R3": ["+A0.1", "+AM2", "+R3"], "A02R2-J": ["+A0.2", "+R2", "-J"]}


@pytest.mark.parametrize("scene", ["edges", "legacy"])
@pytest.mark.parametrize("tag", sorted(OPTIONS))
def test_antialiased_render_matches_povray(render_bin, tmp_path, scene, tag):
    img = render(render_bin, AA / f"{scene}.pov", tmp_path / "o.png", 160, 120, *OPTIONS[tag])
    ref = read_png(AA / "ref" / f"{scene}-{tag}.png")
    cmp = compare(img, ref)
    assert cmp.psnr_db >= 40.0, cmp.summary()
    plain = render(render_bin, AA / f"{scene}.pov", tmp_path / "plain.png", 160, 120)
    assert compare(plain, ref).psnr_db < 30.0  # anti-aliasing is visible: the test can fail
    if scene == "edges":  # assumed_gamma 1: every byte as POV-Ray's
        assert img.rgb == ref.rgb, cmp.summary()


@pytest.mark.parametrize("opts", [["+A"], ["+A0.1", "+AM2", "+R3"], ["+A0.05", "+R2", "+J0.5"]])
def test_native_tilings_give_the_same_bytes(render_bin, tmp_path, opts):
    whole = render(render_bin, AA / "edges.pov", tmp_path / "w.png", 100, 70, *opts)
    for tile in ("7", "32", "45"):
        tiled = render(render_bin, AA / "edges.pov", tmp_path / f"t{tile}.png", 100, 70,
                       "--tile", tile, *opts)
        assert tiled.rgb == whole.rgb, (opts, tile)


def test_long_options_equal_pov_spellings(render_bin, tmp_path):
    pov = render(render_bin, AA / "edges.pov", tmp_path / "p.png", 64, 48, "+A0.2", "+AM2",
                 "+R", "2", "+J0.5")
    long = render(render_bin, AA / "edges.pov", tmp_path / "l.png", 64, 48, "--antialias=0.2",
                  "--aa-method", "2", "--aa-depth", "2", "--jitter", "0.5")
    off = render(render_bin, AA / "edges.pov", tmp_path / "o.png", 64, 48, "+A", "+R2", "-A")
    plain = render(render_bin, AA / "edges.pov", tmp_path / "n.png", 64, 48)
    assert pov.rgb == long.rgb != plain.rgb and off.rgb == plain.rgb
    assert pov_style(["+A0.2", "+AM2", "+R", "2", "+J", "-J", "x.pov"]) == [
        "--antialias=0.2", "--aa-method", "2", "--aa-depth", "2", "--jitter", "1.0", "-J",
        "x.pov"]


@pytest.mark.parametrize("prog", ["povray-render", "povray-server"])
@pytest.mark.parametrize("bad, word", [("+A1.5", "+A1.5 needs a number in 0..1"),
                                       ("+AM3", "+AM3 needs a whole number in 1..2"),
                                       ("+R10", "+R10 needs a whole number in 1..9"),
                                       ("+Jx", "+Jx needs a number in 0..1"),
                                       ("+Q9", "unknown option '+Q9'")])
def test_bad_antialiasing_options_are_clear_errors(tmp_path, prog, bad, word):
    proc = subprocess.run([str(find_binary(prog)), str(AA / "edges.pov"), bad, "-W", "8", "-H",
                           "8", "-o", str(tmp_path / "o.png"), "--api", "unix:/nonexistent"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and word in proc.stderr, proc.stderr


def test_cli_refuses_bad_antialiasing_options(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["render", str(AA / "edges.pov"), "-W", "8", "-H", "8", "-o",
              str(tmp_path / "o.png"), "+AM7"])
    assert exc.value.code == 2 and "--aa-method" in capsys.readouterr().err


def test_help_shows_antialiasing_examples(render_bin):
    for prog in ("povray-render", "povray-server"):
        out = subprocess.run([str(find_binary(prog)), "--help"], capture_output=True,
                             text=True).stdout
        assert "+A[THR]" in out and "+AM2" in out and "-J" in out, prog


def test_tile_with_antialiasing_round_trips():
    t = Tile(64, 48, 16, 8, 8, 8)
    data = t.encode()[:4] + (2).to_bytes(4, "little") + t.encode()[8:] + bytes(16)
    assert len(data) == TILE_AA_BYTES and Tile.decode(data) == t


@pytest.mark.parametrize("opts", [["+A0.1"], ["+A0.1", "+AM2", "+R3"]])
def test_distributed_antialiasing_equals_native_at_two_tilings(render_bin, tmp_path, request,
                                                               opts, capsys):
    """Through a real hub and two sandboxed workers: tiles of 24 (not a multiple of POV-Ray's
    32-pixel blocks: every tile reruns parts of its blocks) and 32 (aligned) both give the
    native render's bytes."""
    hub, _ = request.getfixturevalue("hub_and_workers")
    native = render(render_bin, AA / "edges.pov", tmp_path / "native.png", 100, 70, *opts)
    for tile in ("24", "32"):
        out = tmp_path / f"d{tile}.png"
        rc = main(["render", str(AA / "edges.pov"), "-W", "100", "-H", "70", "-o", str(out),
                   "--tile", tile, "--api", str(hub.api_address), "--no-progress",
                   *opts])
        assert rc == 0, capsys.readouterr()
        assert read_png(out).rgb == native.rgb, (opts, tile)
