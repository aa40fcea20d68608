"""Snippets keep the tokens their model's encoders read (training.model.read_tokens) instead of all
their code's leaves and their doc, so that explaining a result tokenises nothing."""
from django.conf import settings
from django.db import migrations, models


def read_stored_units(apps, schema_editor):
    from training.index import model_dir_of
    from training.model import ModelConfig, function_name, load_config, read_tokens

    Snippet = apps.get_model("repositories", "Snippet")
    for version in apps.get_model("repositories", "IndexVersion").objects.all():
        try:
            config = load_config(model_dir_of(settings.INDEXES_DIR / version.path, version.manifest))
        except OSError:  # its files are gone: it serves nothing, and the defaults are the base model's shape
            config = ModelConfig()
        batch = []
        for snippet in Snippet.objects.filter(version=version).only("func_name", "tokens", "doc").iterator(chunk_size=2000):
            snippet.explained = read_tokens(config, snippet.tokens, function_name({"func_name": snippet.func_name}),
                                            snippet.doc)
            batch.append(snippet)
            if len(batch) == 2000:
                Snippet.objects.bulk_update(batch, ["explained"])
                batch = []
        Snippet.objects.bulk_update(batch, ["explained"])


class Migration(migrations.Migration):

    dependencies = [
        ("repositories", "0006_snippet_highlight"),
    ]

    operations = [
        migrations.AddField(
            model_name="snippet",
            name="explained",
            field=models.JSONField(default=dict, help_text="its name's, code's and doc's tokens as its model's "
                                                           "encoders read them (training.model.read_tokens)"),
        ),
        migrations.RunPython(read_stored_units, migrations.RunPython.noop),
        migrations.RemoveField(model_name="snippet", name="tokens"),
        migrations.RemoveField(model_name="snippet", name="doc"),
    ]
