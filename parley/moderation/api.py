from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status

from parley.core.readers import actor_for, remember_reader
from parley.core.schemas import ERRORS

from .actions import check_report_comment
from .models import Report

router = Router(tags=["moderation"])


class ReportIn(Schema):
    reason: str = Field(description=", ".join(Report.Reason.values))
    note: str = Field("", description="Required for `illegal`: why the content is illegal")
    reporter_name: str = Field("", max_length=100, description="Required for `illegal`")
    reporter_email: str = Field("", max_length=254, description="Required for `illegal`")
    good_faith: bool = Field(
        False, description="Required true for `illegal`: the notice is accurate and complete"
    )


class ReportOut(Schema):
    id: int
    reason: str


@router.post(
    "/comments/{comment_id}/report",
    response={201: ReportOut, **ERRORS},
    summary="Report a comment to the moderators",
)
def report_comment(
    request: HttpRequest, response: HttpResponse, comment_id: int, data: ReportIn
) -> Status[Report]:
    actor = actor_for(request)
    report = check_report_comment(
        actor,
        comment_id,
        data.reason,
        data.note,
        reporter_name=data.reporter_name,
        reporter_email=data.reporter_email,
        good_faith=data.good_faith,
    )
    remember_reader(request, response, actor)
    return Status(201, report)
