"""Snippets store their highlighting (Snippet.highlight, Snippet.html), made when they are indexed; the
live versions' snippets, indexed before, are highlighted here once, so that no request has to."""
from django.db import migrations, models

BATCH = 500


def highlight_live_snippets(apps, schema_editor):
    from codesearch.search.highlight import unit_highlighting

    Repository, Snippet = apps.get_model("repositories", "Repository"), apps.get_model("repositories", "Snippet")
    live = Repository.objects.exclude(live_version=None).values_list("live_version", flat=True)
    pending = Snippet.objects.filter(version__in=list(live), html="").only("code", "language", "start_line")
    batch = []
    for snippet in pending.iterator(chunk_size=BATCH):
        found = unit_highlighting(snippet.code, snippet.language, snippet.start_line)
        snippet.highlight, snippet.html = found["highlight"], found["html"]
        batch.append(snippet)
        if len(batch) == BATCH:
            Snippet.objects.bulk_update(batch, ["highlight", "html"])
            batch = []
    Snippet.objects.bulk_update(batch, ["highlight", "html"])


class Migration(migrations.Migration):

    dependencies = [
        ('repositories', '0005_snippet_tokens'),
    ]

    operations = [
        migrations.AddField(
            model_name='snippet',
            name='highlight',
            field=models.JSONField(default=list, help_text="its shown code as [css class, text] pairs (the API's)"),
        ),
        migrations.AddField(
            model_name='snippet',
            name='html',
            field=models.TextField(blank=True, help_text="its shown code as highlighted HTML, lines numbered (the pages')"),
        ),
        migrations.RunPython(highlight_live_snippets, migrations.RunPython.noop),
    ]
