import json

import numpy as np
import pytest

from training.extract import extract_path
from training.index import (IndexCheckError, RepositoryIndex, build_index, check_index, cosine_from_angular,
                            explained_tokens, recall_probes, with_docs)
from conftest import SAMPLE_REPO
from training.tokenize import subtokens


@pytest.fixture(scope="module")
def built(trained_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("index")
    functions = [f.to_record() for f in extract_path(SAMPLE_REPO, repo="example/sample", sha="0123abc")]
    manifest = build_index(trained_model, functions, out, n_trees=10)
    return out, functions, manifest


def test_every_function_is_in_the_index_in_its_place(built, trained_model):
    """Each function given to the build is found at its item, with its own vector: read back from the
    vectors file, not from the manifest the build wrote. A language this small is searched exactly:
    no Annoy file is built for it."""
    from training.corpus import read_jsonl

    out, functions, manifest = built
    vectors = np.load(out / "python.vectors.npy")
    assert len(vectors) == len(functions) >= 10 and not (out / "python.ann").exists()
    rows = sorted(read_jsonl(out / "functions.jsonl.gz"), key=lambda r: r["item"])
    assert sorted(r["func_name"] for r in rows) == sorted(f["func_name"] for f in functions)
    expected = with_docs(trained_model, rows, trained_model.encode_functions(rows, "python"), manifest["doc_weight"])
    assert np.allclose(vectors[[r["item"] for r in rows]], expected, atol=1e-5)
    assert manifest["languages"]["python"]["recall_at_10"] == 1.0 and manifest["dims"] == 256


def test_a_functions_documentation_takes_part_in_search(trained_model, tmp_path):
    """`when` says "calendar day" only in its docstring: BM25 finds it by those words once the docs are
    read, and the query's cosine with its vector rises."""
    functions = [f.to_record() for f in extract_path(SAMPLE_REPO, repo="example/sample", sha="0123abc")]
    query = "turn text into a calendar day"
    ranks, cosines = {}, {}
    for weight in (0.0, 0.5):
        build_index(trained_model, functions, tmp_path / str(weight), n_trees=10, doc_weight=weight)
        index = RepositoryIndex(tmp_path / str(weight))
        names = {(f["language"], f["item"]): f["func_name"] for f in index.functions()}
        lexical = [names[(h.language, h.item)] for h in index.search("calendar", k=5, mode="bm25")]
        ranks[weight] = lexical.index("when") + 1 if "when" in lexical else None
        cosines[weight] = next(h.score for h in index.search(query, k=len(functions), mode="neural")
                               if names[(h.language, h.item)] == "when")
    assert ranks == {0.0: None, 0.5: 1}
    assert cosines[0.5] > cosines[0.0]


def test_an_index_that_lost_an_item_fails_its_check(built, trained_model, tmp_path):
    import shutil

    from annoy import AnnoyIndex

    out, functions, _ = built
    broken = tmp_path / "broken"
    shutil.copytree(out, broken)
    np.save(broken / "python.vectors.npy", np.load(out / "python.vectors.npy")[:-1])
    with pytest.raises(IndexCheckError, match="items in the index for"):
        check_index(broken)
    # The same for a language searched with Annoy.
    manifest = build_index(trained_model, functions, tmp_path / "annoy", n_trees=10, exact_max=0)
    ann = AnnoyIndex(manifest["dims"], manifest["metric"])
    ann.load(str(tmp_path / "annoy" / "python.ann"))
    short = AnnoyIndex(manifest["dims"], manifest["metric"])
    for item in range(ann.get_n_items() - 1):
        short.add_item(item, ann.get_item_vector(item))
    short.build(2)
    short.save(str(tmp_path / "annoy" / "python.ann"))
    with pytest.raises(IndexCheckError, match="items in the index for"):
        check_index(tmp_path / "annoy")


def test_recall_is_checked_with_typed_queries_and_with_code(trained_model):
    functions = [f.to_record() for f in extract_path(SAMPLE_REPO)]
    vectors = trained_model.encode_code([f["code_tokens"] for f in functions], "python")
    probes = recall_probes(trained_model, functions, vectors, sample=10)
    queries = trained_model.encode_queries([f["summary"] or " ".join(subtokens(f["func_name"].split(".")[-1]))
                                            for f in functions])
    codes = {tuple(v.round(5)) for v in vectors}
    assert len(probes["typed"]) == len(probes["code"]) == 5
    assert all(tuple(p.round(5)) in codes for p in probes["code"])
    assert all(tuple(p.round(5)) not in codes and max(float(q @ p) for q in queries) > 0.999 for p in probes["typed"])


def test_recall_is_the_worse_of_typed_and_code_probes():
    import numpy as np

    from training.index import worst_recall

    probes = {"typed": np.eye(2, dtype=np.float32), "code": np.eye(2, dtype=np.float32)}
    exact = {"typed": [{0, 1}, {2, 3}], "code": [{0, 1}, {0, 1}]}
    # Every code probe's neighbours are found, half of the typed probes' are: the check sees 0.5, where
    # averaging all probes together would have seen 0.75 and let a search that fails typed queries pass.
    assert worst_recall(lambda v, n: [0, 1], probes, exact) == 0.5


def test_search_similar_and_code_search(built):
    out, functions, _ = built
    index = RepositoryIndex(out)
    by_item = {f["item"]: f for f in index.functions()}
    hits = index.search("hash digest of a file", k=3, mode="neural")
    assert len(hits) == 3 and hits[0].score >= hits[1].score >= hits[2].score
    assert all(-1.0 <= h.score <= 1.0 for h in hits)
    # BM25 and the hybrid find the function whose code says sha256/hexdigest.
    for mode in ("bm25", "hybrid"):
        top = index.search("sha256 hexdigest", k=3, mode=mode)[0]
        assert by_item[top.item]["func_name"] == "fingerprint"
    with pytest.raises(ValueError, match="mode"):
        index.search("x", mode="fuzzy")
    first = next(f for f in by_item.values() if f["func_name"] == "fingerprint")
    similar = index.similar("python", first["item"], k=5)
    assert first["item"] not in [h.item for h in similar] and len(similar) == 5
    code_hits = index.search_code(first["original_string"], "python", k=1)
    assert by_item[code_hits[0].item]["func_name"] == "fingerprint"
    with pytest.raises(ValueError, match="ruby"):
        index.search("x", language="ruby")


def test_tampered_index_fails_its_checks(built, tmp_path):
    import shutil

    out, _, _ = built
    shutil.copytree(out, tmp_path / "copy")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["units"] += 1  # a manifest that claims a unit the files do not hold
    (tmp_path / "copy" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCheckError, match="units listed for"):
        check_index(tmp_path / "copy")
    (tmp_path / "copy" / "manifest.json").write_text((out / "manifest.json").read_text())
    (tmp_path / "copy" / "functions.jsonl.gz").write_bytes(b"")
    with pytest.raises(IndexCheckError, match="functions.jsonl.gz does not match its checksum"):
        check_index(tmp_path / "copy")


def test_nothing_to_index_is_an_error(trained_model, tmp_path):
    with pytest.raises(IndexCheckError, match="no functions"):
        build_index(trained_model, [{"language": "cobol", "code_tokens": []}], tmp_path)


def test_angular_to_cosine():
    assert cosine_from_angular(0.0) == 1.0 and cosine_from_angular(2 ** 0.5) == pytest.approx(0.0)


def test_exact_top_10_in_blocks_is_the_exact_cosine_top_10():
    import numpy as np

    from training.index import exact_nearest, exact_top_10

    rng = np.random.default_rng(1)
    for n, probes, block in [(5, 3, 65_536), (12, 4, 5), (1000, 50, 64)]:  # blocks below and above 10 rows
        vectors = rng.standard_normal((n, 16)).astype(np.float32) * rng.uniform(0.5, 2, (n, 1)).astype(np.float32)
        queries = rng.standard_normal((probes, 16)).astype(np.float32)
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        assert exact_top_10(vectors, queries, block=block) == [
            set(np.argsort(-(unit @ q))[:min(10, n)].tolist()) for q in queries]
        _, cosines = exact_nearest(vectors, queries, 3, block=block)  # best first, true cosines
        cosine = (unit @ (queries / np.linalg.norm(queries, axis=1, keepdims=True)).T).T
        assert np.allclose(cosines, -np.sort(-cosine, axis=1)[:, :3], atol=1e-5)


def test_the_width_is_doubled_until_recall_meets_the_bar_then_narrowed_back():
    from training.index import _widen

    asked = []

    def recall_with(width):  # the bar is first met at width 100
        asked.append(width)
        return 0.96 if width >= 100 else 0.9

    assert _widen(32, recall_with) == (112, 0.96)
    assert asked == [32, 64, 128, 96, 112]
    assert _widen(32, lambda width: 0.97) == (32, 0.97)  # met at once: nothing to narrow
    assert _widen(32, lambda width: 0.5) == (64 * 32, 0.5)  # never met: the widest, for the check to refuse


def test_search_k_is_widened_until_recall_meets_the_bar(trained_model, stdlib_corpus, tmp_path):
    from training.corpus import read_corpus

    functions = list(read_corpus(stdlib_corpus, "train"))[:2000]
    manifest = build_index(trained_model, functions, tmp_path, n_trees=2, search_k=50, exact_max=1000)
    entry = manifest["languages"]["python"]
    assert entry["search_k"] > 50 and entry["recall_at_10"] >= 0.95
    assert RepositoryIndex(tmp_path).search_k == {"python": entry["search_k"]}


def test_hybrid_ranks_every_language_together(tmp_path):
    """A language with one weak match must not get the top spot because that match is its best."""
    from training.model import ModelConfig
    from training.train import build_model

    def record(language, name, tokens):
        return {"language": language, "func_name": name, "path": f"{name}.x", "summary": "", "code_tokens": tokens,
                "code": " ".join(tokens), "original_string": " ".join(tokens), "start_line": 1, "end_line": 1}

    python = [record("python", f"parse_date_{i}", ["def", f"p{i}", "parse", "date", "value"]) for i in range(5)]
    python += [record("python", f"other_{i}", ["def", f"o{i}", "read", "file", "path", f"w{i}"]) for i in range(195)]
    javascript = [record("javascript", "widget", ["function", "widget", "date", *[f"ui{i}" for i in range(40)]])]
    model = build_model(python + javascript, ModelConfig(languages=["javascript", "python"], vocab_size=600,
                                                         embedding_dim=64))
    build_index(model, python + javascript, tmp_path, n_trees=5)
    index = RepositoryIndex(tmp_path)
    by_key = {(f["language"], f["item"]): f["func_name"] for f in index.functions()}
    names = [by_key[(h.language, h.item)] for h in index.search("parse date", k=5)]
    assert all(name.startswith("parse_date_") for name in names), names


def test_small_languages_are_searched_exactly_and_large_ones_with_annoy(built, trained_model, tmp_path, monkeypatch):
    import numpy as np

    import training.index

    out, functions, _ = built
    exact = RepositoryIndex(out)
    query = exact.model.encode_queries(["read a file in blocks"])[0]
    vectors = exact._exact_vectors("python")
    expected = np.argsort(-(vectors @ query))[:5].tolist()
    assert [h.item for h in exact.search("read a file in blocks", k=5, mode="neural")] == expected
    assert exact.annoy == {}
    build_index(trained_model, functions, tmp_path, n_trees=10, exact_max=0)  # as a large language is built
    monkeypatch.setattr(training.index, "EXACT_MAX", 0)  # and served
    approximate = RepositoryIndex(tmp_path)
    hits = approximate.search("read a file in blocks", k=5, mode="neural")
    assert approximate._exact_vectors("python") is None
    assert [h.item for h in hits] == expected  # 17 items: Annoy's search covers them all
    assert [h.item for h in approximate.similar("python", 0, k=3)] == [h.item for h in exact.similar("python", 0, k=3)]
    # A hybrid hit that only BM25 found gets its cosine from the exact vectors or, here, the Annoy file.
    items = [3, 0, 7]
    assert approximate._cosines("python", query, items) == pytest.approx(vectors[items] @ query, abs=1e-5)
    assert exact._cosines("python", query, items) == pytest.approx(vectors[items] @ query, abs=1e-5)


def test_large_languages_are_served_by_an_hnsw_graph(trained_model, stdlib_corpus, tmp_path):
    import numpy as np

    from training.corpus import read_corpus

    functions = list(read_corpus(stdlib_corpus, "train"))[:2000]
    # A sparse graph (4 links, built keeping 16 candidates) searched narrowly (10 candidates) misses
    # neighbours: the check widens it.
    manifest = build_index(trained_model, functions, tmp_path, n_trees=5, hnsw_min=1000, hnsw_m=4,
                           hnsw_ef_construction=16, ef_search=10, exact_max=1000)
    entry = manifest["languages"]["python"]
    assert entry["hnsw"] == {**entry["hnsw"], "file": "python.hnsw", "m": 4, "ef_construction": 16}
    assert "search_k" not in entry
    assert entry["ef_search"] > 10 and entry["recall_at_10"] >= 0.95
    index = RepositoryIndex(tmp_path)
    assert set(index.hnsw) == {"python"} and index.hnsw["python"].ef_search == entry["ef_search"]
    vectors = np.array([index.annoy["python"].get_item_vector(i) for i in range(len(functions))])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    found = 0
    queries = ["read a file", "parse command line arguments", "sort a list", "open a socket", "format a date"]
    for query in queries:
        vector = index.model.encode_queries([query])[0]
        hits = index.search(query, k=10, mode="neural")
        assert [h.score for h in hits] == pytest.approx(
            [float(vectors[h.item] @ vector / np.linalg.norm(vector)) for h in hits], abs=1e-5)
        found += len({h.item for h in hits} & set(np.argsort(-(vectors @ vector))[:10].tolist()))
    assert found >= 0.9 * 10 * len(queries)
    assert index._exact == {}  # the graph answered, not exact search over the Annoy file's vectors
    graph = (tmp_path / "python.hnsw").read_bytes()
    (tmp_path / "python.hnsw").write_bytes(graph[:-1] + bytes([graph[-1] ^ 1]))
    with pytest.raises(IndexCheckError, match="python.hnsw does not match its checksum"):
        check_index(tmp_path)


@pytest.fixture(scope="module")
def built_units(trained_model, tmp_path_factory):
    """The sample repository indexed as the product does: functions, classes and blocks."""
    out = tmp_path_factory.mktemp("units")
    units = [f.to_record() for f in extract_path(SAMPLE_REPO, repo="example/sample", sha="0123abc", units=True)]
    build_index(trained_model, units, out, n_trees=10)
    index = RepositoryIndex(out)
    return out, index, {f["item"]: f for f in index.functions()}


def test_the_manifest_and_the_units_file_say_each_items_kind_and_group(built_units):
    out, index, by_item = built_units
    manifest = json.loads((out / "manifest.json").read_text())
    kinds = [f["kind"] for f in by_item.values()]
    assert manifest["kinds"] == {k: kinds.count(k) for k in ("function", "class", "block")}
    assert manifest["functions"] == kinds.count("function") < manifest["units"] == len(kinds)
    table = np.load(out / "python.units.npy")
    report = next(i for i, f in by_item.items() if f["kind"] == "function" and f["func_name"] == "monthly_report")
    for item, f in by_item.items():
        assert ("function", "class", "block")[table[0, item]] == f["kind"]
        assert table[1, item] == (report if f["kind"] == "block" else item)


def test_a_kind_narrows_every_search_to_that_kind(built_units):
    _, index, by_item = built_units
    for mode in ("hybrid", "neural", "bm25"):
        classes = index.search("write sales reports as csv", k=5, mode=mode, kind="class")
        assert classes and {by_item[h.item]["kind"] for h in classes} == {"class"}
        assert by_item[classes[0].item]["func_name"] == "ReportWriter"
    blocks = index.search("revenue of each product", k=5, kind="block")
    assert {by_item[h.item]["kind"] for h in blocks} == {"block"}
    assert by_item[blocks[0].item]["summary"] == "add up the revenue of each product"
    code = index.search_code("total = sum(x for x in y)", "python", k=3, kind="block")
    assert code and {by_item[h.item]["kind"] for h in code} == {"block"}
    with pytest.raises(ValueError, match="unknown kind"):
        index.search("x", kind="module")


def test_a_search_shows_one_unit_of_a_function_and_its_blocks(built_units):
    _, index, by_item = built_units
    for mode in ("hybrid", "neural", "bm25"):
        hits = index.search("customer who spent the most on orders", k=len(by_item), mode=mode)
        report = [by_item[h.item] for h in hits if by_item[h.item]["func_name"] == "monthly_report"]
        assert len(report) <= 1, (mode, report)
    # Everything else still comes back: only the group's lower-ranked units are left out.
    hits = index.search("customer who spent the most on orders", k=len(by_item), mode="neural")
    assert len(hits) == len(by_item) - 3  # four units of monthly_report, one shown


def test_similar_leaves_out_the_units_own_function_and_its_blocks(built_units):
    _, index, by_item = built_units
    block = next(i for i, f in by_item.items() if f["kind"] == "block")
    for item in (block, next(i for i, f in by_item.items() if f["func_name"] == "monthly_report" and f["kind"] == "function")):
        similar = index.similar("python", item, k=len(by_item))
        assert all(by_item[h.item]["func_name"] != "monthly_report" for h in similar)
        assert len(similar) == len(by_item) - 4


def test_an_index_built_before_units_is_served_as_functions(built, tmp_path):
    import shutil

    out, functions, _ = built
    old = tmp_path / "old"
    shutil.copytree(out, old)
    manifest = json.loads((old / "manifest.json").read_text())
    for entry in manifest["languages"].values():
        del entry["units"], entry["kinds"]
        (old / "python.units.npy").unlink()
    del manifest["units"], manifest["kinds"]
    (old / "manifest.json").write_text(json.dumps(manifest))
    check_index(old)
    index = RepositoryIndex(old)
    assert len(index.search("hash digest of a file", k=len(functions), mode="neural")) == len(functions)
    assert index.search("hash digest", kind="class") == []


def test_a_tampered_units_file_fails_the_check(built_units, tmp_path):
    import shutil

    out, _, _ = built_units
    shutil.copytree(out, tmp_path / "copy")
    table = np.load(out / "python.units.npy")
    np.save(tmp_path / "copy" / "python.units.npy", table[:, :-1])
    with pytest.raises(IndexCheckError, match="python.units.npy"):
        check_index(tmp_path / "copy")


def test_the_score_shown_agrees_with_the_order_in_every_mode(built_units):
    """The hybrid ranks by cosine and BM25 together; the score it shows is that ranking's, on the
    cosine's scale, so a result never shows a lower score than one below it. Neural search shows
    plain cosines."""
    _, index, by_item = built_units
    for query in ("sales report per product", "hash digest of a file", "send mail", "lap time of a stopwatch"):
        vector = index.query_vector(query)  # the repository's own words (here "stopwatch") left as typed
        for mode in ("hybrid", "bm25", "neural"):
            scores = [h.score for h in index.search(query, k=len(by_item), mode=mode)]
            assert scores == sorted(scores, reverse=True) and all(-1 <= s <= 1 for s in scores), (query, mode)
        for hit in index.search(query, k=5, mode="neural"):
            cosine = float(vector @ index._exact_vectors("python")[hit.item] / np.linalg.norm(vector))
            assert hit.score == pytest.approx(cosine, abs=1e-5)


def test_on_cosine_scale_keeps_the_order_and_the_cosines_when_bm25_adds_nothing():
    from training.hybrid import mix, on_cosine_scale

    rng = np.random.default_rng(0)
    cosines, bm25 = rng.uniform(-0.2, 0.9, 50), rng.exponential(2.0, 50)
    everyone = np.ones(50, bool)
    mixed = mix(cosines, bm25, everyone)
    shown = on_cosine_scale(cosines, mixed, everyone)
    assert list(np.argsort(-shown, kind="stable")) == list(np.argsort(-mixed, kind="stable"))
    assert np.allclose(on_cosine_scale(cosines, mix(cosines, bm25, everyone, weight=0.0), everyone), cosines, atol=1e-6)


@pytest.mark.parametrize("path, patterns, inside", [
    ("django/core/mail/message.py", ["core/mail"], True),
    ("django/core/mail/message.py", ["/core/mail"], False),
    ("django/core/mail/message.py", ["/django/core"], True),
    ("django/core/mailer.py", ["core/mail"], False),
    ("django/core/mail/message.py", ["mail/message.py"], True),
    ("django/core/mail/message.py", ["*.py"], True),
    ("django/core/mail/message.py", ["*.go"], False),
    ("src/a/b/x_test.go", ["src/**/*_test.go"], True),
    ("lib/x.js", ["*.py", "lib"], True),
])
def test_path_patterns(path, patterns, inside):
    from training.index import path_matches

    assert path_matches(path, patterns) is inside


def test_path_filters_narrow_every_search(built_units):
    from training.index import split_path_filters

    _, index, by_item = built_units
    assert split_path_filters("send  path:sample/mailer.py mail path:*.py") == ("send mail", ("sample/mailer.py", "*.py"))
    for mode in ("hybrid", "neural", "bm25"):
        hits = index.search("write a report path:report.py", k=20, mode=mode)
        assert hits and {by_item[h.item]["path"] for h in hits} == {"sample/report.py"}
        assert [h.item for h in index.search("write a report", k=20, mode=mode, paths=["report.py"])] == \
            [h.item for h in hits]
    assert index.search("send mail path:nowhere/") == []
    timeutil = index.search_code("def lap(self): pass", "python", k=5, paths=["sample/timeutil.py"])
    assert timeutil and {by_item[h.item]["path"] for h in timeutil} == {"sample/timeutil.py"}
    item = next(i for i, f in by_item.items() if f["path"] == "sample/mailer.py")
    assert {by_item[h.item]["path"] for h in index.similar("python", item, k=5, paths=["*storage*"])} == {"sample/storage.py"}


def test_indexes_built_with_a_shared_model_hold_none_and_load_it_once(trained_model, tmp_path):
    from training.index import model_dir_of, shared_model

    trained_model.save(tmp_path / "base")
    shared = shared_model(tmp_path / "base", tmp_path / "models")
    assert shared_model(tmp_path / "base", tmp_path / "models") == shared  # by content: made once
    units = [f.to_record() for f in extract_path(SAMPLE_REPO, units=True)]
    for name in ("a", "b"):
        manifest = build_index(trained_model, units, tmp_path / name, n_trees=5, model_dir=shared)
        assert manifest["model_shared"] and not (tmp_path / name / "model").exists()
        assert model_dir_of(tmp_path / name) == shared.resolve()
    a, b = RepositoryIndex(tmp_path / "a"), RepositoryIndex(tmp_path / "b")
    assert a.model is b.model  # one copy per process, whatever the number of repositories
    assert [h.item for h in a.search("send mail", k=5)] == [h.item for h in b.search("send mail", k=5)]
    import shutil

    shutil.rmtree(shared)
    with pytest.raises(IndexCheckError, match="model it was built with is missing"):
        check_index(tmp_path / "a")


def test_exact_search_reads_memory_mapped_unit_vectors(built_units):
    out, index, by_item = built_units
    vectors = index._exact_vectors("python")
    # A plain array over the file's mapping (the np.memmap subclass is slow to index).
    assert isinstance(vectors.base, np.memmap) and vectors.shape == (len(by_item), 256)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    rows = [by_item[i] for i in range(len(by_item))]
    expected = with_docs(index.model, rows, index.model.encode_functions(rows, "python"), index.manifest["doc_weight"])
    assert np.allclose(vectors, expected, atol=1e-5)


def test_token_terms_add_up_to_the_cosine(trained_model):
    """The bag of words makes each token's part of the similarity exact, for code (its name weighed
    apart) and for text through the query encoder."""
    query = trained_model.encode_queries(["send an email message"])[0]
    leaves = ["def", "send_mail", "(", "to", ",", "body", ")", ":", "smtp", ".", "sendmail", "(", "to", ")"]
    code = trained_model.encode_code([leaves], "python", ["send_mail"])[0]
    terms = trained_model.contributions(query, leaves, "python", "send_mail")
    assert sum(t for *_, t in terms) == pytest.approx(float(query @ code / np.linalg.norm(query)), abs=1e-5)
    assert {(token, in_name) for token, in_name, _ in terms} >= {("send", True), ("send", False), ("smtp", False)}
    doc = trained_model.encode_queries(["Send a mail to someone."], spell=False)[0]
    terms = trained_model.contributions(query, ["Send a mail to someone."], "query", code=False)
    assert sum(t for *_, t in terms) == pytest.approx(float(query @ doc / np.linalg.norm(query)), abs=1e-5)


def test_each_unit_is_stored_with_the_tokens_explaining_it_reads(built_units):
    _, index, by_item = built_units
    for unit in by_item.values():
        raw = {k: v for k, v in unit.items() if k != "explained"}
        assert unit["explained"] == explained_tokens(index.model.config, raw)
    units = list(by_item.values())[:20]
    assert index.explain("revenue of each product", units) == index.explain(
        "revenue of each product", [{k: v for k, v in u.items() if k != "explained"} for u in units])


def test_explain_names_the_tokens_a_unit_matched_by(built_units):
    _, index, by_item = built_units
    hit = index.search("revenue of each product", k=1, kind="block")[0]
    unit = by_item[hit.item]
    [why] = index.explain("revenue of each product", [unit])
    assert 1 <= len(why) <= 5 and [w["share"] for w in why] == sorted((w["share"] for w in why), reverse=True)
    assert all(0 < w["share"] <= 1 and w["source"] in ("name", "code", "doc") for w in why)
    assert sum(w["share"] for w in why) <= 1.0001
    words = {w["token"] for w in why}
    assert words & {"revenue", "product"}  # the words it shares with the query
    for w in why:  # each token is one the unit really holds, where it says
        place = {"doc": unit["docstring"].lower(), "name": unit["func_name"].lower()}.get(
            w["source"], " ".join(unit["code_tokens"]).lower())
        assert w["token"].split("_")[0] in place


def test_a_class_gives_up_the_class_prior_in_a_ranking_of_every_kind(built_units):
    from training.index import CLASS_PRIOR

    _, index, by_item = built_units

    def places(prior, **kind):
        index.class_prior = prior
        hits = index.search("a stopwatch that records lap times", k=len(by_item), **kind)
        return {(by_item[h.item]["kind"], by_item[h.item]["func_name"]): (rank, h.score) for rank, h in enumerate(hits)}

    try:
        without, with_prior = places(0.0), places(CLASS_PRIOR)
        assert places(0.0, kind="class") == places(CLASS_PRIOR, kind="class")  # asked for classes: no prior
    finally:
        index.class_prior = CLASS_PRIOR
    stopwatch = ("class", "Stopwatch")
    assert with_prior[stopwatch][1] < without[stopwatch][1] and with_prior[stopwatch][0] >= without[stopwatch][0]
    assert CLASS_PRIOR > 0


def test_best_first_is_a_stable_sort_cut_short():
    from training.hybrid import best_first

    rng = np.random.default_rng(0)
    for _ in range(500):
        scores = rng.integers(0, 4, size=int(rng.integers(1, 120))).astype(np.float32)  # many ties
        scores[rng.integers(0, len(scores))] = -np.inf
        n = int(rng.integers(1, 130))
        assert best_first(scores, n).tolist() == np.argsort(-scores, kind="stable")[:n].tolist()


def test_a_mistyped_query_finds_what_the_right_words_find(built_units):
    """Each mistyped word is corrected to a word one edit away, for the model and for BM25 alike."""
    _, index, _ = built_units
    for mode in ("hybrid", "bm25", "neural"):
        right = index.search("send mail", k=3, mode=mode)
        assert index.search("sned mial", k=3, mode=mode) == right, mode
    assert np.allclose(index.query_vector("hash digset of a flie"), index.query_vector("hash digest of a file"))
    # What was searched, to show people: the corrected words, the filters as typed; the query itself
    # when nothing needed correcting.
    assert index.corrected("Sned  mial path:Mail") == "send mail path:Mail"
    assert index.corrected("send  mail path:x") == "send  mail path:x"
