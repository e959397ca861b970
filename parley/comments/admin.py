"""Staff manage threads and comments here; every change that moves a counter or what readers
see goes through the same actions as the API, never a raw form save."""

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .actions import do_close_thread, do_delete_comment, do_set_status
from .models import Comment, CommentRevision, Subscription, Thread


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
    list_display = ["uri", "site", "title", "published_count", "closed_at"]
    list_filter = ["site"]
    search_fields = ["uri", "title"]
    readonly_fields = ["site", "uri", "published_count", "closed_at", "created_at"]
    actions = ["close", "reopen"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # threads start with their first comment

    @admin.action(description=_("Close the selected discussions"))
    def close(self, request: HttpRequest, queryset: QuerySet[Thread]) -> None:
        self._set_closed(request, queryset, closed=True)

    @admin.action(description=_("Reopen the selected discussions"))
    def reopen(self, request: HttpRequest, queryset: QuerySet[Thread]) -> None:
        self._set_closed(request, queryset, closed=False)

    def _set_closed(
        self, request: HttpRequest, queryset: QuerySet[Thread], *, closed: bool
    ) -> None:
        with transaction.atomic():
            for thread in queryset.select_related("site").select_for_update(of=("self",)):
                do_close_thread(thread, closed=closed)
        self.message_user(request, _("Done."), messages.SUCCESS)


class RevisionInline(admin.TabularInline):
    model = CommentRevision
    extra = 0
    can_delete = False
    fields = ["replaced_at", "body"]
    readonly_fields = ["replaced_at", "body"]
    verbose_name_plural = _("Earlier versions")

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


COMMENT_FIELDS = (
    "thread",
    "parent",
    "author_name",
    "author_email",
    "author_url",
    "status",
    "body",
    "quote",
    "created_at",
    "edited_at",
    "upvotes",
    "downvotes",
    "score",
    "reply_count",
    "depth",
    "reader_key",
    "ip_hash",
)


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "author_name", "status", "score", "created_at", "thread"]
    list_filter = ["status", "thread__site"]
    search_fields = ["author_name", "body"]
    list_select_related = ["thread"]
    fields = COMMENT_FIELDS
    readonly_fields = COMMENT_FIELDS
    inlines = [RevisionInline]
    actions = ["publish", "mark_spam", "hold", "delete_comments"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # a deletion leaves a placeholder: use the "Delete" action

    def _apply(self, request: HttpRequest, queryset: QuerySet[Comment], change) -> None:  # type: ignore[no-untyped-def]
        with transaction.atomic():
            # Lock in primary-key order, as every other writer does, so two never deadlock.
            comments = list(
                queryset.select_related("thread__site")
                .select_for_update(of=("self",))
                .order_by("pk")
            )
            for comment in comments:
                change(comment)
        self.message_user(
            request,
            ngettext("%(n)d comment changed.", "%(n)d comments changed.", len(comments))
            % {"n": len(comments)},
            messages.SUCCESS,
        )

    @admin.action(description=_("Publish"))
    def publish(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        self._apply(request, queryset, lambda c: do_set_status(c, Comment.Status.PUBLISHED))

    @admin.action(description=_("Mark as spam"))
    def mark_spam(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        self._apply(request, queryset, lambda c: do_set_status(c, Comment.Status.SPAM))

    @admin.action(description=_("Hold for review"))
    def hold(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        self._apply(request, queryset, lambda c: do_set_status(c, Comment.Status.PENDING))

    @admin.action(description=_("Delete (keeps a placeholder where there are replies)"))
    def delete_comments(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        self._apply(request, queryset, do_delete_comment)


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["email", "kind", "uri", "site", "created_at", "confirmed_at"]
    list_filter = ["kind", "site"]
    search_fields = ["email", "uri"]
    readonly_fields = ["site", "uri", "email", "kind", "created_at", "confirmed_at"]
    exclude = ["reader_key"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
