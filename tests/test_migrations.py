"""Data migrations, run forwards on rows written by the schema before them."""
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from training.model import load_config, read_tokens

BEFORE, AFTER = ("repositories", "0006_snippet_highlight"), ("repositories", "0007_snippet_explained")


@pytest.mark.django_db(transaction=True)
def test_snippets_keep_the_tokens_their_model_reads_instead_of_every_leaf(settings, tmp_path, trained_model_dir):
    settings.INDEXES_DIR = tmp_path
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    old = executor.loader.project_state([BEFORE]).apps
    repository = old.get_model("repositories", "Repository").objects.create(owner="example", name="old")
    version = old.get_model("repositories", "IndexVersion").objects.create(
        repository=repository, commit="0123abc", path="repositories/example/old/v1", manifest={"model_dir": str(trained_model_dir)})
    leaves = ["def", "send_mail", "(", "to", ",", "body", ")", ":", *["smtp", ".", "sendmail", "(", "to", ")"] * 100]
    old.get_model("repositories", "Snippet").objects.create(
        version=version, language="python", item=0, func_name="Mailer.send_mail", path="mail.py", start_line=1,
        end_line=9, code="def send_mail(to, body): ...", tokens=leaves, doc="Send a mail to someone.")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([AFTER])
    snippet = executor.loader.project_state([AFTER]).apps.get_model("repositories", "Snippet").objects.get()
    config = load_config(trained_model_dir)
    assert snippet.explained == read_tokens(config, leaves, "send_mail", "Send a mail to someone.")
    # Read as the code encoder reads: the name first, then the code, cut where it stops.
    assert snippet.explained["name"] and snippet.explained["doc"][:3] == ["send", "a", "mail"]
    assert len(snippet.explained["name"]) + len(snippet.explained["code"]) == config.max_code_len < len(leaves)
