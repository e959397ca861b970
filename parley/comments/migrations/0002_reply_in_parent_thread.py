"""A reply must live in its parent's thread. Django cannot declare a composite foreign key, so
the database gets one by hand: a real (parent, thread) foreign key on PostgreSQL, triggers on
SQLite (which cannot add a foreign key to an existing table)."""

from django.db import migrations

POSTGRES = (
    "ALTER TABLE comments_comment ADD CONSTRAINT comment_parent_same_thread "
    "FOREIGN KEY (parent_id, thread_id) REFERENCES comments_comment (id, thread_id) "
    "DEFERRABLE INITIALLY DEFERRED",
    "ALTER TABLE comments_comment DROP CONSTRAINT comment_parent_same_thread",
)
SQLITE_TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS comment_parent_same_thread_{event} BEFORE {event} ON comments_comment "
    "WHEN NEW.parent_id IS NOT NULL AND NEW.thread_id IS NOT "
    "(SELECT thread_id FROM comments_comment WHERE id = NEW.parent_id) "
    "BEGIN SELECT RAISE(ABORT, 'comment_parent_same_thread'); END"
)
EVENTS = ("INSERT", "UPDATE")


def add(apps, schema_editor):
    """Also run by later migrations: SQLite drops a table's triggers when Django rebuilds the
    table to alter it."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES[0])
    elif schema_editor.connection.vendor == "sqlite":
        for event in EVENTS:
            schema_editor.execute(SQLITE_TRIGGER.format(event=event))


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES[1])
    elif schema_editor.connection.vendor == "sqlite":
        for event in EVENTS:
            schema_editor.execute(f"DROP TRIGGER comment_parent_same_thread_{event}")


class Migration(migrations.Migration):
    dependencies = [("comments", "0001_initial")]
    operations = [migrations.RunPython(add, remove)]
