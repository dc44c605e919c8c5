"""Who may use which page: the one table every route is checked against.

Viewers read, researchers write, admins manage users and authorities. A route missing
from this table is refused to everyone and fails the app's start-up check, so a new page
cannot be published by accident.
"""

from __future__ import annotations

from foitrack.models import Role

PUBLIC = None

# endpoint -> the least role that may use it (PUBLIC: signed-out visitors too).
ROUTE_ROLES: dict[str, Role | None] = {
    "static": PUBLIC,
    "main.health": PUBLIC,
    "auth.login": PUBLIC,
    # An invitation's link: its token, not a session, says who may use it (services/invitations).
    "auth.invite": PUBLIC,
    "auth.logout": Role.viewer,
    "auth.password": Role.viewer,
    "main.index": Role.viewer,
    "authorities.index": Role.viewer,
    "authorities.detail": Role.viewer,
    "authorities.sets": Role.viewer,
    "authorities.export": Role.viewer,
    "authorities.edit": Role.admin,
    "authorities.import_csv": Role.admin,
    "campaigns.index": Role.viewer,
    "campaigns.detail": Role.viewer,
    "campaigns.new": Role.researcher,
    "campaigns.edit": Role.researcher,
    "campaigns.repeat": Role.researcher,
    "campaigns.bulk": Role.researcher,
    "campaigns.add_authorities": Role.researcher,
    # Viewers see who is let in; the service lets only the owner or an admin change it.
    "campaigns.members": Role.viewer,
    "campaigns.remove_member": Role.researcher,
    "requests.detail": Role.viewer,
    "requests.add_event": Role.researcher,
    "requests.reference": Role.researcher,
    "requests.remove_event": Role.researcher,
    "requests.restore_event": Role.admin,
    # Narrowed follow-ups (services.follow_ups): sending one, and marking the figures' source.
    "requests.follow_up": Role.researcher,
    "requests.use_as_source": Role.researcher,
    "requests.chase": Role.viewer,
    "requests.chase_csv": Role.viewer,
    # The chase list's buttons: emailing chasers, recording a chaser or a response.
    "requests.chase_actions": Role.researcher,
    "figures.design": Role.researcher,
    "figures.campaign_file": Role.viewer,
    "figures.grid": Role.researcher,
    # Figures proposed from the reply files (issue 19): reviewing them saves figures, as the grid.
    "proposals.review": Role.researcher,
    "proposals.crop": Role.viewer,  # as the request page and its files
    "figures.figure": Role.viewer,
    "removed_figures.index": Role.viewer,
    "removed_figures.restore": Role.admin,
    "figures.check": Role.researcher,
    "figures.import_figures": Role.researcher,
    "figures.export_figures": Role.viewer,
    "figures.aggregate_page": Role.viewer,
    "figures.cell": Role.viewer,
    "figures.release": Role.viewer,
    "figures.fact_sheets": Role.viewer,
    "figures.fact_sheet": Role.viewer,
    "figures.aggregate_chart": Role.viewer,
    "figures.fact_sheet_chart": Role.viewer,
    # Official figures set beside the campaign's own (issue 18): shown to viewers on the
    # aggregate page; imported and deleted by researchers.
    "figures.reference_figures": Role.researcher,
    "figures.delete_reference_figure": Role.researcher,
    # Series (issue 18): what each viewer sees is filtered by the service to the campaigns
    # visible to them (embargo), so these are open to every viewer.
    "series.index": Role.viewer,
    "series.detail": Role.viewer,
    "series.download": Role.viewer,
    "series.chart": Role.viewer,
    "api.series": Role.viewer,
    # The publish page (issue 20): its versions, checklist and form, for researchers.
    "publishing.publish": Role.researcher,
    # Partners' private links to an embargoed version, on that page: as publishing it.
    "publishing.add_partner": Role.researcher,
    "publishing.revoke_partner": Role.researcher,
    "checks.index": Role.viewer,
    "checks.explain": Role.researcher,
    "checks.unexplain": Role.researcher,
    "data.template": Role.researcher,
    "data.all_templates": Role.researcher,
    "data.import_templates": Role.researcher,
    "data.confirm_templates": Role.researcher,
    "data.import_tracker": Role.researcher,
    "data.export": Role.viewer,
    # Viewers may download: building the same file in the background is no more than that.
    "data.export_job": Role.viewer,
    "api.campaign_export_job": Role.viewer,
    "mail.send": Role.researcher,
    "mail.chase": Role.researcher,
    "right_of_reply.page": Role.researcher,  # as sending chasers (services.right_of_reply)
    "mail.templates": Role.researcher,
    "mail.outbox": Role.viewer,
    "mail.inbox": Role.researcher,
    "mail.assign": Role.researcher,
    "mail.download": Role.viewer,
    "mail.view_file": Role.viewer,
    # A job's page shows who was sent what; cancelling it is a write.
    "jobs.index": Role.viewer,
    "jobs.detail": Role.viewer,
    "jobs.cancel": Role.researcher,
    "jobs.resolve": Role.researcher,
    "tokens.index": Role.viewer,
    "tokens.revoke": Role.viewer,
    "api.openapi": PUBLIC,
    # The public data portal, and only it, open without sign-in by design: it shows published
    # releases past their embargo and nothing else (foitrack.web.views.public_data answers 404
    # for anything not public, to signed-in users alike).
    "public_data.index": PUBLIC,
    "public_data.campaign": PUBLIC,
    "public_data.version": PUBLIC,
    "public_data.corrections": PUBLIC,
    "public_data.authority": PUBLIC,
    "public_data.file": PUBLIC,
    # A partner's private link to an embargoed release: its token says who may see it.
    "public_data.shared_release": PUBLIC,
    "public_data.shared_corrections": PUBLIC,
    "public_data.shared_authority": PUBLIC,
    "public_data.shared_file": PUBLIC,
    "api.authorities": Role.viewer,
    "api.authority": Role.viewer,
    "api.campaigns": Role.viewer,
    "api.campaign": Role.viewer,
    "api.campaign_requests": Role.viewer,
    "api.request_detail": Role.viewer,
    "api.add_event": Role.researcher,
    "api.figures": Role.viewer,
    "api.aggregate": Role.viewer,
    "api.export": Role.viewer,
    "api.campaign_send": Role.researcher,
    "api.campaign_chase": Role.researcher,
    "api.job": Role.viewer,
    "api.job_result": Role.viewer,
    "users.index": Role.admin,
    "users.new": Role.admin,
    "users.edit": Role.admin,
    "users.reset_password": Role.admin,
    "users.invite": Role.admin,
}


def required_role(endpoint: str | None) -> Role | None:
    """The least role for an endpoint. :raises KeyError: for an endpoint not in the table."""
    if endpoint is None:
        raise KeyError("no endpoint")
    return ROUTE_ROLES[endpoint]


def unlisted_endpoints(endpoints: list[str]) -> list[str]:
    return sorted(set(endpoints) - set(ROUTE_ROLES))
