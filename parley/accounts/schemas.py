from ninja import Field, Schema


class SignInIn(Schema):
    site: str = Field(max_length=50)
    email: str = Field(max_length=254)
    return_url: str = Field(
        max_length=2000,
        description="The absolute address of the page the reader is on; the link leads back",
    )


class SignInAskedOut(Schema):
    message: str = Field(description="What happens next, in the reader's language")
    browser_key: str = Field(
        description="Keep it in this browser: only with it does the e-mailed link sign in"
    )


class CompleteIn(Schema):
    token: str = Field(max_length=200, description="From the link's #parley-signin= fragment")
    browser_key: str = Field(max_length=200)


class AccountOut(Schema):
    name: str = Field(description="The name the reader chose to comment under; may be empty")
    email: str
    avatar: str


class SignedInOut(Schema):
    account: AccountOut
    session: str = Field(description="Send as `X-Parley-Session` with every request")


class MeOut(Schema):
    account: AccountOut | None
    own_comments: list[int] = Field(
        default_factory=list,
        description="With site and uri: the account's comments in that thread, which it may "
        "edit and delete at any time",
    )


class MessageOut(Schema):
    message: str
