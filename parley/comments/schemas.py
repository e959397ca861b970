from typing import Literal

from ninja import Field, Schema
from pydantic import field_validator

from .actions import Draft


class AuthorOut(Schema):
    name: str
    url: str | None
    avatar: str | None
    supporter: bool = Field(
        description="Signed in with an account that gave to one of the site's campaigns"
    )


class QuoteSelector(Schema):
    exact: str
    prefix: str
    suffix: str


class CommentOut(Schema):
    id: int
    parent: int | None
    level: int = Field(description="1 for a top-level comment; capped at the site's max depth")
    in_reply_to: str | None = Field(
        description="Set on a reply shown at the deepest level: the name it answers"
    )
    author: AuthorOut
    html: str = Field(description="Sanitised HTML; empty for a deleted placeholder")
    created_at: str
    edited_at: str | None
    status: Literal["published", "pending", "spam", "deleted"]
    score: int
    upvotes: int
    downvotes: int
    quote: str | None
    quote_selector: QuoteSelector | None = Field(
        description="Where the quote sits in the article, to find it again after edits"
    )
    replies: list["CommentOut"]


class ThreadInfo(Schema):
    site: str
    uri: str
    title: str
    closed: bool
    count: int = Field(description="Published comments, replies included")
    max_depth: int


class ThreadOut(Schema):
    thread: ThreadInfo
    comments: list[CommentOut]
    next_cursor: str | None


class CommentIn(Schema):
    site: str = Field(max_length=50)
    uri: str = Field(max_length=500)
    parent: int | None = None
    body: str = Field(description="Markdown; raw HTML is shown as text")
    author_name: str = Field(max_length=100)
    author_email: str = Field("", max_length=254)
    author_url: str = Field("", max_length=500)
    quote: str = Field("", description="A passage of the article this comment answers")
    quote_prefix: str = Field(
        "", max_length=64, description="Text just before the quote (W3C text-quote selector)"
    )
    quote_suffix: str = Field("", max_length=64, description="Text just after the quote")
    form_token: str = Field(
        "", max_length=200, description="The `form_token` the thread fragment came with"
    )
    homepage: str = Field(
        "", max_length=500, description="Leave empty: a field hidden from people, for bots"
    )

    def to_draft(self) -> Draft:
        return Draft(
            site=self.site,
            uri=self.uri,
            body=self.body,
            author_name=self.author_name,
            author_email=self.author_email,
            author_url=self.author_url,
            parent_id=self.parent,
            quote=self.quote,
            quote_prefix=self.quote_prefix,
            quote_suffix=self.quote_suffix,
            form_token=self.form_token,
            honeypot=self.homepage,
        )


class PostedOut(Schema):
    comment: CommentOut
    status: Literal["published", "pending"]
    edit_token: str = Field(description="Send as `Authorization: Bearer …` to edit or delete")
    reader_token: str = Field(description="Send back as `X-Parley-Reader` where cookies fail")


class CommentSourceOut(CommentOut):
    body: str | None = Field(None, description="Markdown source, only with the edit token")


class EditIn(Schema):
    body: str


class VoteIn(Schema):
    value: Literal[1, -1, 0]

    @field_validator("value", mode="before")
    @classmethod
    def exactly_an_integer(cls, value: object) -> object:
        # true, 1.0 and "1" would otherwise pass as 1.
        if type(value) is not int:
            raise ValueError("must be the number 1, -1 or 0")
        return value


class VoteOut(Schema):
    score: int
    upvotes: int
    downvotes: int
    value: int


class CountsOut(Schema):
    counts: dict[str, int]


class SubscriptionIn(Schema):
    site: str = Field(max_length=50)
    uri: str = Field(max_length=500)
    email: str = Field(max_length=254)
    kind: Literal["thread", "replies", "comment"]
    comment: int | None = Field(
        default=None, description='With kind "comment": the comment whose replies to follow'
    )
    delivery: Literal["instant", "daily"] = Field(
        default="instant", description="Each e-mail at once, or one daily digest"
    )


class SubscriptionOut(Schema):
    message: str = Field(description="What will happen next, in the reader's language")
