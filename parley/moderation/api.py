from django.http import HttpRequest
from ninja import Field, Router, Schema

from parley.core.readers import actor_for

from .actions import check_report_comment
from .models import Report

router = Router(tags=["moderation"])


class ReportIn(Schema):
    reason: str = Field(description=", ".join(Report.Reason.values))
    note: str = ""


class ReportOut(Schema):
    id: int
    reason: str


@router.post("/comments/{comment_id}/report", response={201: ReportOut},
             summary="Report a comment to the moderators")
def report_comment(request: HttpRequest, comment_id: int, data: ReportIn) -> tuple[int, Report]:
    return 201, check_report_comment(actor_for(request), comment_id, data.reason, data.note)
