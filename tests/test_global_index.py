"""The search across repositories: one global index embedded by the shared base model (one scale, one
lookup), rebuilt as versions go live or go away, leaving out a broken index instead of failing; and
the per-process cache of repositories' loaded indexes, bounded by a memory budget."""
import gzip
import json
import logging
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from training.corpus import read_corpus
from training.delta import PatchedModel
from training.finetune import FinetuneConfig, extend_model
from training.global_index import GlobalIndex, Part, build_global
from training.index import build_index, shared_model

from web_support import get_json, hostile_repo, indexed_hostile  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def functions(stdlib_corpus):
    return [{**r, "kind": "function"} for r in list(read_corpus(stdlib_corpus, "valid"))[:400]]


@pytest.fixture(scope="module")
def parts(trained_model, trained_model_dir, functions, tmp_path_factory):
    """The same functions indexed as three repositories: served by the base; by a fine-tuned model
    (saved as its delta); and one whose files were damaged after it was built."""
    root = tmp_path_factory.mktemp("global")
    shared = shared_model(trained_model_dir, root / "models")
    build_index(trained_model, functions, root / "base", n_trees=5, recall_sample=50, model_dir=shared)
    tuned, _ = extend_model(trained_model, functions, FinetuneConfig(min_documented=1))
    tuned.embedding.weight.data += 0.05  # moved everywhere: its cosines are not the base's
    delta = PatchedModel.from_models(tuned, trained_model)
    delta.base_dir = shared
    build_index(delta, functions, root / "tuned", n_trees=5, recall_sample=50)
    build_index(trained_model, functions, root / "broken", n_trees=5, recall_sample=50, model_dir=shared)
    with gzip.open(root / "broken" / "functions.jsonl.gz", "rt") as f:
        first = f.readline()
    with gzip.open(root / "broken" / "functions.jsonl.gz", "wt") as f:
        f.write(first)  # one unit listed for 400 indexed
    return root, shared, [Part("v/base", "a/base", root / "base"), Part("v/tuned", "b/tuned", root / "tuned"),
                          Part("v/broken", "c/broken", root / "broken")]


def test_every_repository_on_one_scale_and_a_broken_one_left_out(parts, functions, caplog):
    root, shared, found = parts
    with caplog.at_level(logging.WARNING):
        manifest = build_global(found, shared, root / "global", root / "cache", exact_max=100, recall_sample=100)
    assert [p["key"] for p in manifest["parts"]] == ["v/base", "v/tuned"]
    assert manifest["left_out"][0]["repository"] == "c/broken" and "units listed" in manifest["left_out"][0]["reason"]
    assert "c/broken" in caplog.text
    assert manifest["rows"] == 2 * len(functions) and (root / "global" / "graph.hnsw").is_file()
    assert manifest["recall_at_10"] >= 0.95
    # The fine-tuned repository's units were embedded again by the base (and cached for the next build).
    assert len(list((root / "cache").glob("*.npy"))) == 1
    index = GlobalIndex(root / "global")
    vectors = np.asarray(index.vectors)
    assert np.allclose(vectors[:len(functions)], vectors[len(functions):], atol=1e-6)
    wanted = functions[11]
    hits = index.search(wanted["summary"], k=6)
    # The same unit in two repositories: found in both, with the same score, side by side.
    by_place = {(h.part, h.item): h.score for h in hits}
    assert ("v/base", 11) in by_place and by_place[("v/base", 11)] == pytest.approx(by_place[("v/tuned", 11)])
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert {h.part for h in index.search(wanted["summary"], k=6, language="python", kind="function")} == {"v/base", "v/tuned"}
    assert index.search(wanted["summary"], k=6, kind="class") == []
    path = wanted["path"]
    assert {functions[h.item]["path"] for h in index.search(wanted["summary"], k=4, paths=[path])} == {path}


def test_search_all_uses_the_global_index_and_follows_repositories(client, indexed_hostile, settings):  # noqa: F811
    from codesearch.repositories import global_index as global_indexes
    from codesearch.repositories.models import Repository
    from codesearch.search import engine

    directory = global_indexes.current_directory()
    assert directory is not None  # built when each repository went live
    manifest = json.loads((directory / "manifest.json").read_text())
    assert {p["repository"] for p in manifest["parts"]} == {"example/sample", "example/hostile"}
    status, body = get_json(client, "search", q="send an email", limit=5)
    assert status == 200 and body["results"][0]["repository"] == "example/sample"
    # Removed: its results go at once (only live versions are shown), and the next refresh drops it.
    Repository.objects.get(owner="example", name="sample").delete()
    assert {r.snippet.version.repository.full_name for r in engine.search_all("send an email")} <= {"example/hostile"}
    assert global_indexes.refresh_if_stale() is not None
    out = StringIO()
    call_command("refresh_global_index", "--if-stale", stdout=out)
    assert out.getvalue().strip() == "the global index is up to date"  # nothing changed since
    assert [p["repository"] for p in json.loads((global_indexes.current_directory() / "manifest.json")
                                                .read_text())["parts"]] == ["example/hostile"]


def test_a_broken_repository_is_left_out_of_search_all_not_failing_it(client, indexed_hostile, caplog):  # noqa: F811
    from codesearch.repositories import global_index as global_indexes
    from codesearch.repositories.models import Repository

    broken = Repository.objects.get(owner="example", name="hostile").live_version.directory
    (broken / "manifest.json").write_text("{not json")
    out, err = StringIO(), StringIO()
    with caplog.at_level(logging.WARNING):
        call_command("refresh_global_index", stdout=out, stderr=err)
    manifest = json.loads((global_indexes.current_directory() / "manifest.json").read_text())
    assert [p["repository"] for p in manifest["left_out"]] == ["example/hostile"]
    assert "of 1 repositories" in out.getvalue() and err.getvalue().startswith("left out example/hostile: ")
    assert "example/hostile" in caplog.text
    status, body = get_json(client, "search", q="send an email", limit=5)
    assert status == 200 and {r["repository"] for r in body["results"]} == {"example/sample"}


def test_loaded_indexes_stay_within_the_memory_budget(indexed_hostile, settings):  # noqa: F811
    from codesearch.repositories.models import Repository
    from codesearch.search import engine

    sample, hostile = (Repository.objects.get(owner="example", name=n).live_version for n in ("sample", "hostile"))
    engine._loaded.clear()
    engine.index_for(sample)
    footprint = engine._loaded[sample.path][2]
    assert footprint > 0
    settings.SEARCH_INDEXES_MEMORY_BYTES = footprint + 1  # room for one of them
    engine.index_for(hostile)
    assert list(engine._loaded) == [hostile.path]  # the least recently searched went first
    settings.SEARCH_INDEXES_MEMORY_BYTES = 10 * footprint
    engine.index_for(sample)
    engine.index_for(hostile)  # searched again: now the most recent
    engine.index_for(sample)
    assert list(engine._loaded) == [hostile.path, sample.path]
