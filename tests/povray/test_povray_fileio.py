"""POV-Ray's text file directives (#fopen, #write, #read, #fclose; issue 16's directive
language), a #declare value that ends without ';' before a directive or a macro call, and
#ifdef of array elements: a scene of our own that writes a file, reads it back in a
'#while (defined(F))' loop and places objects from what it read, against POV-Ray 3.7's own
render of it (and the file it wrote); bad uses fail with one line naming what is wrong."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import parse_error, render

from cpushare_mq.povray.image import compare, read_png

LANG = Path(__file__).resolve().parent.parent / "data" / "scenes" / "lang"
# what POV-Ray 3.7 wrote for the scene's two #write directives (its "%g" and "<%g,...> ")
POVRAY_WROTE = '"first",0.25,<-1.5,0.3,0.5> ,\n"second", -0.5, <1.5, 0.8, -0.25>\n'


def test_a_scene_that_writes_and_reads_a_file_matches_povray(render_bin, tmp_path):
    scene = tmp_path / "fileio.pov"
    shutil.copy(LANG / "fileio.pov", scene)
    out = tmp_path / "fileio.png"
    proc = subprocess.run([str(render_bin), "fileio.pov", "-W", "160", "-H", "120", "-o",
                           str(out)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "balls.txt").read_text() == POVRAY_WROTE     # files go to the cwd
    cmp = compare(read_png(out), read_png(LANG / "ref" / "fileio.png"))
    assert cmp.psnr_db >= 50.0 and cmp.max_diff <= 2, cmp.summary()


def test_values_without_semicolons_end_before_directives_and_macro_calls(render_bin, tmp_path):
    src = ('#macro M(S) #declare Got = S; #end\n'
           '#declare A = "x"\n#declare B = concat(A, "y")\n'
           '#declare C = ""\nM(concat(B, C))\n'
           '#if (strcmp(Got, "xy") != 0) #error "wrong" #end\n'
           'camera { location -5*z look_at 0 } sphere { 0, 1 pigment { rgb 1 } }\n')
    p = tmp_path / "s.pov"
    p.write_text(src)
    render(render_bin, p, tmp_path / "s.png", 16, 12)      # '#error "wrong"' otherwise


@pytest.mark.parametrize("src, words", [
    ('#read (F, X)', "'F' is not an open file"),
    ('#fopen F "missing.txt" read', "cannot open 'missing.txt' for read: No such file"),
    ('#fopen F "w.txt" write\n#read (F, X)', "file 'F' is open for writing"),
    ('#fopen F "w.txt" update', "expected read, write or append, got 'update'"),
    ('#fopen F "w.txt" write\n#write (F, sphere { 0, 1 })', "#write takes strings, floats and vectors, got"),
    ('#declare A = array[2]\n#ifdef (A[2]) #end', "index 2 out of range for 'A' (size 2)"),
])
def test_bad_file_directives_fail_with_one_line(render_bin, tmp_path, monkeypatch, src, words):
    monkeypatch.chdir(tmp_path)
    msg = parse_error(render_bin, tmp_path, src + "\ncamera { location -5*z look_at 0 }\n")
    assert words in msg and msg.count("\n") <= 1, msg
