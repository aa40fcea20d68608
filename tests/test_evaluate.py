import json
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import CSN_SAMPLE, ROOT, run_cli
from training.evaluate import BM25, all_systems, diagonal_reciprocal_ranks, ndcg


def test_bm25_ranks_the_document_sharing_rare_terms_first():
    index = BM25([["parse", "date", "string"], ["send", "mail", "smtp"], [], ["send", "json"]])
    scores = np.stack([index.scores(q) for q in (["send", "mail"], ["parse", "date"], ["unknown"])])
    assert scores.shape == (3, 4)
    assert scores[0].argmax() == 1 and scores[1].argmax() == 0
    assert not scores[2].any()  # no known term: no evidence, all zero


def test_reciprocal_ranks_count_ties_against_the_match():
    scores = np.array([[0.9, 0.1], [0.5, 0.5]])
    assert diagonal_reciprocal_ranks(scores).tolist() == [1.0, 0.5]


def test_ndcg():
    assert ndcg([3, 2, 0], [3, 2]) == pytest.approx(1.0)
    assert ndcg([0, 2, 3], [3, 2]) < ndcg([2, 0, 3], [3, 2]) < 1.0
    assert ndcg([0, 0], []) == 0.0


@pytest.mark.skipif(not CSN_SAMPLE.exists(), reason="the shared CodeSearchNet sample is not beside the repository")
def test_evaluate_command_reports_model_bm25_and_hybrid_on_real_csn_data(trained_model_dir, tmp_path):
    # The real CodeSearchNet sample as a test split, plus relevance annotations on two of its functions.
    from training.corpus import read_corpus, write_jsonl

    records = list(read_corpus(CSN_SAMPLE, "valid", ["python"]))
    write_jsonl(tmp_path / "csn" / "python" / "final" / "jsonl" / "test" / "python_test_0.jsonl.gz", records)
    annotations = tmp_path / "annotationStore.csv"
    annotations.write_text("Language,Query,GitHubUrl,Relevance,Notes\n"
                           f"Python,save model to a file,{records[0]['url']},3,\n"
                           f"Python,save model to a file,{records[1]['url']},0,\n")
    done = run_cli("evaluate", "--model", str(trained_model_dir), "--csn", str(tmp_path / "csn"),
                   "--annotations", str(annotations), "--json")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    python = report["csn_mrr"]["python"]
    assert python["pairs"] == 120 and set(python) >= {"model", "bm25", "hybrid"}
    assert all(0 < python[k] <= 1 for k in ("model", "bm25", "hybrid"))
    assert report["ndcg"]["queries"] == 1 and 0 < report["ndcg"]["model"]["within"] <= 1
    assert "CodeSearchNet MRR" in done.stdout
    # The same queries mistyped: measured beside the clean ones, each system's share of its clean MRR.
    typos = report["typos"]
    assert typos["python"]["pairs"] == 120 and 0 < typos["python"]["model"] <= 1
    for name in ("model", "bm25", "hybrid"):
        assert typos["clean_ratio"][name] == pytest.approx(typos["macro"][name] / report["csn_mrr"]["macro"][name])
    # Ranked apart from the clean queries (on 120 queries, correction can even make BM25 gain a little).
    assert all(typos["python"][name] != python[name] for name in ("model", "bm25"))
    assert "one typo in each query word" in done.stdout


def test_typos_edit_each_longer_word_once_the_same_way_every_time():
    import random

    from training.evaluate import typo_records, with_typos

    def distance(a, b):  # Damerau-Levenshtein with adjacent swaps, small words only
        rows = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
        for i in range(1, len(a) + 1):
            for j in range(1, len(b) + 1):
                rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
                if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                    rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
        return rows[-1][-1]

    text = "Convert a hex string to binary data, quickly."
    typed = with_typos(text, random.Random(3))
    assert typed != text and typed.count(" ") == text.count(" ")
    for clean, mistyped in zip(text.split(), typed.split()):
        word = clean.strip(",.")
        assert distance(word, mistyped.strip(",.")) == (1 if len(word) >= 3 else 0)
    records = [{"summary": text}, {"summary": "send mail"}]
    assert typo_records(records) == typo_records(records) != records
    # A language's queries are mistyped the same whether other languages are evaluated with it or not.
    java = [{"language": "java", "summary": f"parse the header line number {i}"} for i in range(20)]
    go = [{"language": "go", "summary": f"parse the header line number {i}"} for i in range(20)]
    mixed = typo_records(go[:10] + java + go[10:])
    assert [r for r in mixed if r["language"] == "java"] == typo_records(java)
    assert [r for r in mixed if r["language"] == "go"] == typo_records(go) != typo_records(java)


def test_evaluate_command_on_a_beir_layout(trained_model_dir, tmp_path):
    beir = tmp_path / "beir"
    (beir / "qrels").mkdir(parents=True)
    docs = {"d1": "def f(path):\n    return hashlib.sha256(open(path, 'rb').read()).hexdigest()",
            "d2": "def g(text):\n    return datetime.datetime.strptime(text, '%Y-%m-%d')",
            "d3": "def h(items):\n    return sorted(items)"}
    (beir / "corpus.jsonl").write_text("".join(json.dumps({"_id": k, "title": "", "text": v, "language": "python"}) + "\n"
                                               for k, v in docs.items()))
    (beir / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": "sha256 hash of a file"}) + "\n"
                                        + json.dumps({"_id": "q2", "text": "parse a date"}) + "\n")
    (beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n")
    done = run_cli("evaluate", "--model", str(trained_model_dir), "--beir", str(beir), "--json")
    report = json.loads(done.stdout.strip().splitlines()[-1])["beir"]
    assert report["queries"] == 2 and report["documents"] == 3
    assert report["bm25"]["recall@10"] == 1.0 and set(report["hybrid"]) == {"mrr", "recall@1", "recall@10", "ndcg@10"}


def test_evaluate_command_rejects_bad_input(trained_model_dir, tmp_path):
    import subprocess
    import sys

    def evaluate(*args):
        return subprocess.run([sys.executable, "-m", "training", "evaluate", "--model", str(trained_model_dir), *args],
                              capture_output=True, text=True)
    missing = evaluate()
    assert missing.returncode == 2 and "--csn" in missing.stderr
    empty = evaluate("--csn", str(tmp_path))
    assert empty.returncode == 2 and "no CodeSearchNet-layout data" in empty.stderr
    other = evaluate("--csn", str(tmp_path), "--language", "ruby")
    assert other.returncode == 2 and "no ruby encoder" in other.stderr


def test_the_hybrid_breaks_bm25_ties_with_the_model():
    bm25_tied = np.array([[2.0, 2.0]])
    for model_scores, winner in ((np.array([[0.1, 0.3]]), 1), (np.array([[0.3, 0.1]]), 0)):
        assert all_systems(model_scores, bm25_tied, np.zeros((1, 2)))["hybrid"][0].argmax() == winner


def test_csn_mrr_shuffles_before_chunking_as_codesearchnet_does():
    """CodeSearchNet's MrrSearchTester shuffles (seed 0) before cutting chunks of 1,000; in file order
    this split's first chunk would be all easy pairs and the hard tail would be dropped unseen."""
    import string

    from training.evaluate import evaluate_csn
    from training.model import ModelConfig
    from training.train import build_model

    def word(i):
        return "qx" + "".join(string.ascii_lowercase[int(d)] for d in f"{i:04d}")

    easy = [{"language": "python", "summary": word(i), "code_tokens": ["def", word(i), "pass"]} for i in range(1000)]
    hard = [{"language": "python", "summary": "unmatched words", "code_tokens": ["def", word(5000 + i), "pass"]}
            for i in range(500)]
    model = build_model(easy + hard, ModelConfig(languages=["python"], vocab_size=600, embedding_dim=16))
    python = evaluate_csn(model, easy + hard)["python"]
    assert python["pairs"] == 1000
    # About a third of the chunk is hard pairs (no BM25 match: they rank last), the rest rank first.
    assert 0.55 < python["bm25"] < 0.8


def test_bm25s_cannot_take_the_gpu_through_jax():
    """bm25s runs JAX at import when JAX is installed, and JAX takes 75% of a GPU's memory: the library
    keeps JAX on the CPU unless the user chose a platform."""
    code = "import os, training.evaluate; print(os.environ['JAX_PLATFORMS'])"
    env = {k: v for k, v in os.environ.items() if k != "JAX_PLATFORMS"}
    chosen = {**env, "JAX_PLATFORMS": "cuda"}
    for environment, expected in ((env, "cpu"), (chosen, "cuda")):
        done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True)
        assert done.stdout.strip() == expected, done.stderr
