from django.contrib import admin

from .models import Comment, CommentRevision, Thread


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
    list_display = ["uri", "site", "title", "published_count", "closed_at"]
    list_filter = ["site"]
    search_fields = ["uri", "title"]
    readonly_fields = ["published_count"]


class RevisionInline(admin.TabularInline):
    model = CommentRevision
    extra = 0
    can_delete = False
    readonly_fields = ["body", "replaced_at"]
    exclude = ["body_html"]


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    """Staff see every version of a comment; counters change only through actions."""

    list_display = ["__str__", "thread", "author_name", "status", "score", "created_at"]
    list_filter = ["status", "thread__site"]
    search_fields = ["author_name", "body"]
    raw_id_fields = ["thread", "parent", "root", "account"]
    readonly_fields = [
        "body_html",
        "upvotes",
        "downvotes",
        "score",
        "reply_count",
        "ip_hash",
        "reader_key",
        "depth",
        "created_at",
        "edited_at",
    ]
    inlines = [RevisionInline]
