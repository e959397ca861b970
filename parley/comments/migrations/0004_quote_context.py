import importlib

from django.db import migrations, models

# SQLite rebuilds comments_comment to add these columns, which drops its triggers.
_reply_in_parent_thread = importlib.import_module(
    "parley.comments.migrations.0002_reply_in_parent_thread"
)


def restore_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        _reply_in_parent_thread.add(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("comments", "0003_subscription")]

    operations = [
        migrations.AddField(
            model_name="comment",
            name="quote_prefix",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name="comment",
            name="quote_suffix",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.RunPython(restore_sqlite_triggers, migrations.RunPython.noop),
    ]
