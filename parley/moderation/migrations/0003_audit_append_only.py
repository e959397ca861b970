"""The audit log is append-only: the database itself refuses to change an entry. PostgreSQL
also refuses row deletes (TRUNCATE, an operator's deliberate purge, stays possible); SQLite
refuses updates only, since Django's test flush deletes rows there."""

from django.db import migrations

POSTGRES = (
    """
    CREATE FUNCTION moderation_audit_append_only() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION 'the moderation audit log is append-only'; END;
    $$ LANGUAGE plpgsql;
    CREATE TRIGGER moderation_audit_append_only BEFORE UPDATE OR DELETE
    ON moderation_auditentry FOR EACH ROW EXECUTE FUNCTION moderation_audit_append_only();
    """,
    """
    DROP TRIGGER moderation_audit_append_only ON moderation_auditentry;
    DROP FUNCTION moderation_audit_append_only();
    """,
)
SQLITE = (
    "CREATE TRIGGER moderation_audit_append_only BEFORE UPDATE ON moderation_auditentry "
    "BEGIN SELECT RAISE(ABORT, 'the moderation audit log is append-only'); END",
    "DROP TRIGGER moderation_audit_append_only",
)


def add(apps, schema_editor):
    sql = {"postgresql": POSTGRES, "sqlite": SQLITE}.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql[0])


def remove(apps, schema_editor):
    sql = {"postgresql": POSTGRES, "sqlite": SQLITE}.get(schema_editor.connection.vendor)
    if sql:
        schema_editor.execute(sql[1])


class Migration(migrations.Migration):
    dependencies = [("moderation", "0002_pipeline_queue_audit")]
    operations = [migrations.RunPython(add, remove)]
