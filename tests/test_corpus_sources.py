"""Corpus sources, offline: each registry's archives are made here (a .deb by dpkg-deb, an npm
tarball and a wheel by tar and zip) and built through the CLI; the csn source runs on the real
CodeSearchNet sample."""
import json
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from training.corpus import build, keep, read_corpus
from training.sources import Downloads, SourceError, Unit, debian
from conftest import CSN_SAMPLE, ROOT

PY_DOC = '    """Compute the {0} of the numbers given here."""\n    x = {1}\n    y = x * 2\n    return x + y\n'
JS_DOC = "/**\n * Merge the {0} options into the defaults given.\n */\nfunction {0}(a) {{\n  var b = a;\n  return b + {1};\n}}\n"


def python_module(n: int, salt: int) -> str:
    return "".join(f"def f{i}():\n" + PY_DOC.format(f"sum{i}", salt * 100 + i) for i in range(n))


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "training", "corpus", "build", *args], cwd=ROOT,
                          capture_output=True, text=True)


def ok(*args: str) -> dict:
    done = cli(*args)
    assert done.returncode == 0, done.stderr[-2000:]
    out = Path(args[args.index("--out") + 1])
    return json.loads((out / "stats.json").read_text())


def make_deb(where: Path, package: str, files: dict[str, str], arch: str = "all") -> Path:
    root = where / f"{package}-root"
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(content)
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        f"Package: {package}\nVersion: 1.0-1\nArchitecture: {arch}\nMaintainer: t <t@example.org>\n"
        f"Description: test\n test package\n")
    deb = where / f"{package}_1.0-1_{arch}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(root), str(deb)], check=True,
                   capture_output=True)
    shutil.rmtree(root)
    return deb


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")
def test_debian_source_from_debs(tmp_path):
    debs = tmp_path / "debs"
    debs.mkdir()
    make_deb(debs, "python3-alpha", {"usr/lib/python3/dist-packages/alpha/core.py": python_module(4, 1),
                                     "usr/lib/python3/dist-packages/alpha/static/app.js": JS_DOC.format("x", 1)})
    make_deb(debs, "golang-example-beta-dev", {"usr/share/gocode/src/example.org/beta/beta.go":
                                               "package beta\n\n// Add the two numbers and return them.\n"
                                               "func Add(a, b int) int {\n\tc := a + b\n\treturn c\n}\n"})
    make_deb(debs, "golang-example-gamma-dev", {"usr/share/gocode/src/example.org/gamma/gamma.go":
                                                "package gamma\n\n// Sub the two numbers and return them.\n"
                                                "func Sub(a, b int) int {\n\tc := a - b\n\treturn c\n}\n"},
             arch="amd64")
    make_deb(debs, "unrelated", {"usr/share/unrelated/x.py": python_module(2, 3)})
    out = tmp_path / "corpus"
    stats = ok("--out", str(out), "--source", "debian", "--path", str(debs), "--languages", "python", "go",
               "javascript")
    langs = stats["languages"]
    # the arch-any Go package and the unrelated one are not picked; the bundled .js is not Python's
    assert langs["python"]["functions"] == 4 and langs["python"]["kept"] == 4 and langs["python"]["packages"] == 1
    assert langs["go"]["kept"] == 1 and "javascript" not in langs
    paths = {r["path"].split("/core.py")[0] for r in read_corpus(out, "train", ["python"])}
    paths |= {r["path"].split("/core.py")[0] for p in ("valid", "test") for r in read_corpus(out, p, ["python"])}
    assert paths == {"debian/python3-alpha/usr/lib/python3/dist-packages/alpha"}
    cache = out / ".cache" / "debian"
    assert sorted(p.name for p in (cache / "debs").iterdir()) == [
        "golang-example-beta-dev_1.0-1_all.deb", "python3-alpha_1.0-1_all.deb"]
    assert not any((cache / "unpacked").iterdir())  # unpacked trees go once extracted


def test_debian_rules_pick_packages_from_apt_records():
    available = [{"Package": p, "Architecture": a, **({"Source": s} if s else {})} for p, a, s in [
        ("python3-requests", "all", None), ("python3-numpy", "amd64", None), ("golang-github-x-y-dev", "all", None),
        ("libpython3.11-stdlib", "amd64", None), ("golang-github-z-dev", "amd64", None),
        ("golang-1.19-src", "all", None), ("openjdk-17-source", "all", None), ("libcommons-io-java", "all", "commons-io"),
        ("libcommons-io-java-doc", "all", "commons-io"), ("libfoo-java", "all", "commons-io (2.11-2)"),
        ("ruby-rack", "all", None), ("libruby3.1", "amd64", None), ("php-symfony-console", "all", None),
        ("node-lodash", "all", None), ("python-is-python3", "all", None)]]
    available.append({"Package": "python3-sage", "Architecture": "amd64", "Installed-Size": "336917"})
    picks = {p.name: p.rule for p in debian.select(available, ["python", "go", "java", "ruby", "php", "javascript"])}
    assert set(picks) == {"python3-requests", "python3-numpy", "libpython3.11-stdlib", "golang-github-x-y-dev",
                          "golang-1.19-src", "openjdk-17-source", "commons-io", "ruby-rack", "libruby3.1",
                          "php-symfony-console", "node-lodash"}
    assert picks["commons-io"].source and picks["golang-1.19-src"].split and picks["libruby3.1"].split
    assert {p.name for p in debian.select(available, ["ruby"])} == {"ruby-rack", "libruby3.1"}
    showsrc = debian.parse_records(
        "Package: commons-io\nFiles:\n a 100 commons-io_2.11.orig.tar.xz\n b 7 commons-io_2.11-2.debian.tar.xz\n")
    assert debian.tarball_sizes(showsrc) == {"commons-io": 100}


def test_downloads_come_in_batches_and_a_bad_name_is_isolated(tmp_path):
    calls = []

    def fetch(names, into):
        calls.append(list(names))
        if "bad" in names:
            raise SourceError("apt-get download: E: Unable to locate package bad")
        for name in names:
            (into / f"{name}_1.0_all.deb").write_text(name)

    queue = ["a", "b", "bad", "c"]
    downloads = Downloads(tmp_path / "debs", fetch, lambda f: f.split("_")[0], queue)
    (tmp_path / "debs").mkdir()
    assert downloads.get("a")[0].name == "a_1.0_all.deb"
    assert calls == [queue, ["a"], ["b"], ["bad"], ["c"]]  # one batch; it failed, so one at a time
    assert downloads.get("c") and len(calls) == 5  # already there: no new download
    with pytest.raises(SourceError, match="Unable to locate"):
        downloads.get("bad")
    again = Downloads(tmp_path / "debs", fetch, lambda f: f.split("_")[0], queue)
    assert again.get("b") and len(calls) == 5  # a rerun finds the cache


def test_npm_source_from_tarballs(tmp_path):
    tarballs = tmp_path / "npm"
    tarballs.mkdir()
    for name, n in (("leftpad", 3), ("merge-deep", 2)):
        src = tmp_path / name / "package"
        (src / "lib").mkdir(parents=True)
        (src / "lib" / "index.js").write_text("".join(JS_DOC.format(f"{name.replace('-', '_')}{i}", i) for i in range(n)))
        (src / "lib" / "index.min.js").write_text("function a(){return 1}")
        with tarfile.open(tarballs / f"{name}-1.2.3.tgz", "w:gz") as t:
            t.add(src, arcname="package")
    out = tmp_path / "corpus"
    stats = ok("--out", str(out), "--source", "npm", "--path", str(tarballs), "--languages", "javascript")
    assert stats["languages"]["javascript"]["kept"] == 5 and stats["languages"]["javascript"]["packages"] == 2
    records = [r for p in ("train", "valid", "test") for r in read_corpus(out, p, ["javascript"])]
    assert {r["package"] for r in records} == {"npm/leftpad", "npm/merge-deep"}
    assert all(r["path"].endswith("package/lib/index.js") for r in records)


def test_pypi_source_from_wheels_and_sdists(tmp_path):
    archives = tmp_path / "pypi"
    archives.mkdir()
    with zipfile.ZipFile(archives / "alpha_lib-1.0-py3-none-any.whl", "w") as z:
        z.writestr("alpha_lib/__init__.py", python_module(3, 1))
        z.writestr("alpha_lib-1.0.dist-info/METADATA", "Name: alpha-lib\n")
    sdist = tmp_path / "beta-2.0"
    sdist.mkdir()
    (sdist / "beta.py").write_text(python_module(2, 2))
    with tarfile.open(archives / "beta-2.0.tar.gz", "w:gz") as t:
        t.add(sdist, arcname="beta-2.0")
    out = tmp_path / "corpus"
    stats = ok("--out", str(out), "--source", "pypi", "--path", str(archives))
    assert stats["languages"]["python"]["kept"] == 5 and stats["languages"]["python"]["packages"] == 2
    assert stats["sources"] == ["pypi"] and not stats.get("failed")


@pytest.mark.skipif(not CSN_SAMPLE.exists(), reason="the shared CodeSearchNet sample is not beside the repository")
def test_csn_source_cleans_real_codesearchnet_and_keeps_its_partitions(tmp_path):
    out = tmp_path / "corpus"
    stats = ok("--out", str(out), "--source", "csn", "--path", str(CSN_SAMPLE))
    entry = stats["languages"]["python"]
    assert entry["functions"] == 120 and 0 < entry["kept"] == entry["valid"] <= 120
    records = list(read_corpus(out, "valid", ["python"]))
    assert len(records) == entry["kept"] and all(keep(r) for r in records)
    assert not list(read_corpus(out, "train", ["python"]))


def test_interrupted_build_resumes_without_refetching(tmp_path):
    src = tmp_path / "src"
    for p in range(4):
        (src / f"pkg{p}").mkdir(parents=True)
        (src / f"pkg{p}" / "mod.py").write_text(python_module(3, p))
    fetched = []

    def unit(name, interrupt=False):
        def fetch():
            fetched.append(name)
            if interrupt:
                raise KeyboardInterrupt
            return [(name, src / name)]
        return Unit(name, fetch)

    out = tmp_path / "corpus"
    with pytest.raises(KeyboardInterrupt):
        build(out, [unit("pkg0"), unit("pkg1"), unit("pkg2", interrupt=True), unit("pkg3")], ["python"], workers=1)
    assert not (out / "stats.json").exists()
    cached = len(list((out / ".work").glob("*.jsonl.gz")))
    assert cached >= 1  # pkg0 was extracted before the interruption
    fetched.clear()
    stats = build(out, [unit(f"pkg{p}") for p in range(4)], ["python"], workers=1)
    assert len(fetched) == 4 - cached and "pkg0" not in fetched and "pkg2" in fetched
    assert stats["languages"]["python"]["kept"] == 12 and stats["languages"]["python"]["packages"] == 4


def test_a_package_that_fails_to_fetch_is_reported_not_fatal(tmp_path):
    src = tmp_path / "pkg"
    src.mkdir()
    (src / "mod.py").write_text(python_module(3, 0))

    def broken():
        raise SourceError("pkgx: not downloaded")

    stats = build(tmp_path / "corpus", [Unit("good", lambda: [("good", src)]), Unit("pkgx", broken)], ["python"],
                  workers=1)
    assert stats["failed"] == {"pkgx": "pkgx: not downloaded"} and stats["languages"]["python"]["kept"] == 3


def test_inheritdoc_only_documentation_is_dropped():
    code = "void f() {\n  a();\n  b();\n}"
    assert not keep({"summary": "{@inheritDoc}", "docstring": "{@inheritDoc}", "code": code})
    assert not keep({"summary": "{@inheritDoc} Fast.", "code": code})
    assert keep({"summary": "{@inheritDoc} Faster for small arrays.", "code": code})
    assert not keep({"summary": "TODO Auto-generated method stub", "code": code})


@pytest.mark.parametrize("args, message", [
    (["--source", "csn", "--path", "/nonexistent"], "not a directory"),
    (["--source", "csn"], "one --path"),
    (["--source", "local"], "needs at least one --path"),
    (["--languages", "cobol", "--source", "npm"], "unknown language"),
    (["--source", "debian", "npm", "--path", "."], "--path: one directory"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    done = cli("--out", str(tmp_path / "corpus"), *args)
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_no_csn_files_and_no_packages_are_bad_input(tmp_path):
    (tmp_path / "empty").mkdir()
    done = cli("--out", str(tmp_path / "a"), "--source", "csn", "--path", str(tmp_path / "empty"))
    assert done.returncode == 2 and "no CodeSearchNet files" in done.stderr
    done = cli("--out", str(tmp_path / "b"), "--source", "npm", "--path", str(tmp_path / "empty"))
    assert done.returncode == 2 and "no packages" in done.stderr
