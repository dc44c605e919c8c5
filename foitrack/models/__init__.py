"""The tables, one module per entity; importing this package registers them all on Base."""

from foitrack.models.api_token import ApiToken
from foitrack.models.audit import AuditEntry
from foitrack.models.authority import Authority, AuthoritySet, authority_set_member
from foitrack.models.campaign import Campaign, CampaignMember, CampaignStatus, CampaignVersion
from foitrack.models.data_version import DataVersion
from foitrack.models.design import (
    Category,
    CategoryGroup,
    Dimension,
    Measure,
    Period,
    PeriodGroup,
    category_group_member,
    period_group_member,
)
from foitrack.models.figure import Figure
from foitrack.models.figure_proposal import FigureProposal, ProposalState
from foitrack.models.finding import FindingExplanation
from foitrack.models.invitation import Invitation
from foitrack.models.job import Job, JobKind, JobState
from foitrack.models.mail import (
    Attachment,
    DeliveryStatus,
    InboundMessage,
    MailTemplate,
    MessageKind,
    OutgoingMessage,
)
from foitrack.models.population import Population
from foitrack.models.published_release import PublishedRelease
from foitrack.models.reference_figure import ReferenceFigure
from foitrack.models.release_access import PartnerAccess, ReleaseOpening, ReleasePartner
from foitrack.models.reply_reading import ReplyReading
from foitrack.models.request import Event, Request
from foitrack.models.right_of_reply import RightOfReply
from foitrack.models.series import Series
from foitrack.models.sign_in import SignInFailure
from foitrack.models.stored_file import StoredFile
from foitrack.models.user import Role, User

__all__ = [
    "ApiToken", "Attachment", "AuditEntry", "Authority", "DeliveryStatus", "InboundMessage", "MailTemplate",
    "MessageKind", "OutgoingMessage", "AuthoritySet", "Campaign", "CampaignMember", "CampaignStatus",
    "CampaignVersion", "DataVersion",
    "Category", "CategoryGroup", "Dimension", "Event", "Figure", "FigureProposal",
    "FindingExplanation", "Invitation",
    "Measure", "Period",
    "Job", "JobKind", "JobState", "PeriodGroup", "Population", "ProposalState", "PublishedRelease",
    "ReferenceFigure", "Series", "PartnerAccess", "ReleaseOpening", "ReleasePartner",
    "ReplyReading", "Request", "RightOfReply", "Role", "SignInFailure", "StoredFile", "User",
    "authority_set_member",
    "category_group_member", "period_group_member",
]
