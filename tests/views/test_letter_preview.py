"""The campaign page shows the whole request as an authority will read it, for any of its
authorities (issue 16, point 3)."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import select

from foitrack.models import Authority, CampaignVersion, MessageKind
from foitrack.services import authorities, campaigns, mail, requests
from foitrack.services.mail_templates import save_template
from tests.factories import TEST_ACTOR, design_for, make_campaign, make_user
from tests.pages import page_text, sign_in

URL = "/campaigns/grooming-2019"
# Paragraphs, a placeholder and markup a researcher might paste: all shown, none obeyed.
WORDING = ('{{ salutation }},\n\nHow many offences did {{ authority.name }} record?\n\n'
           'Please give them <script>alert(1)</script> by year.\n\nYours faithfully,')


@pytest.fixture
def campaign(app, client, session):
    app.config["TODAY"] = dt.date(2019, 6, 4)
    design = design_for(["kent", "sussex"]).replace('"""Dear {{ authority.name }}, ..."""',
                                                    f'"""{WORDING}"""')
    found = make_campaign(session, design)
    sign_in(client, make_user(session, role="viewer").email)
    return found


def _letter(page: str) -> str:
    """The letter as the page shows it, unescaped."""
    return html.unescape(re.search(r'<pre class="letter" id="letter-text">(.*?)</pre>', page,
                                   re.S).group(1))


def test_the_page_shows_the_whole_letter_for_the_first_authority(client, session, campaign):
    page = page_text(client, URL)
    assert "The request, as Kent Police will read it" in page
    assert _letter(page) == ("Dear Freedom of Information Officer,\n\nHow many offences did "
                             "Kent Police record?\n\nPlease give them <script>alert(1)</script> "
                             "by year.\n\nYours faithfully,")
    # What the send would put in the message, reference token included.
    subject, body = mail.compose(session, requests.get_request(session, campaign.slug, "kent"),
                                 MessageKind.request, dt.date(2019, 6, 4))
    assert _letter(page) == body
    assert f"Subject: {html.escape(subject)}</p>" in page and "[FOI-" in subject


def test_the_letter_is_in_the_campaign_s_own_request_wording(client, session, campaign):
    assert "Please quote" not in _letter(page_text(client, URL))  # the default, kept by the page
    # Checked against a request's values, as the wording page does.
    sample = mail._context(requests.get_request(session, campaign.slug, "kent"),
                           dt.date(2019, 6, 4), None)
    save_template(session, TEST_ACTOR, campaign, MessageKind.request, "FOI: {{ subject }}",
                  "{{ request_text }}\n\nPlease quote {{ authority.short_name }} in your reply.",
                  sample, 0)
    session.commit()
    page = page_text(client, URL)
    assert "Subject: FOI: Freedom of Information request: Sexual communication" in page
    assert _letter(page).endswith("by year.\n\nYours faithfully,\n\nPlease quote Kent in your reply.")


def test_a_renamed_authority_is_named_on_the_next_load(client, session, campaign):
    assert "did Kent Police record?" in _letter(page_text(client, URL))
    kent = session.scalars(select(Authority).where(Authority.slug == "kent")).one()
    authorities.update_authority(session, TEST_ACTOR, kent, {"name": "Kent Constabulary"})
    session.commit()
    page = page_text(client, URL)
    assert "did Kent Constabulary record?" in _letter(page)
    assert "The request, as Kent Constabulary will read it" in page


def test_another_authority_s_letter_can_be_chosen(client, campaign):
    page = page_text(client, URL)
    assert re.search(r'<select class="input" id="preview" name="preview">\s*'
                     r'<option value="kent" selected>Kent Police</option>'
                     r'<option value="sussex">Sussex Police</option>', page)
    page = page_text(client, f"{URL}?preview=sussex")
    assert "The request, as Sussex Police will read it" in page
    assert "How many offences did Sussex Police record?" in _letter(page)
    assert '<option value="sussex" selected>Sussex Police</option>' in page
    # By the authority's code as well, as a request's own address takes it.
    assert "did Sussex Police record?" in _letter(page_text(client, f"{URL}?preview=E23000033"))


def test_the_choice_keeps_the_request_list_s_filter_and_page(client, campaign):
    page = page_text(client, f"{URL}?status=not_sent")
    form = re.search(r'<form method="get" class="filters" id="letter-preview"(.*?)</form>', page,
                     re.S).group(1)
    assert 'action="/campaigns/grooming-2019#letter"' in form
    assert '<input type="hidden" name="status" value="not_sent">' in form


def test_an_authority_the_campaign_does_not_ask_is_explained(client, campaign):
    response = client.get(f"{URL}?preview=nowhere<b>")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "No request of this campaign goes to &#39;nowhere&lt;b&gt;&#39;: choose an authority " \
           "from the list." in page
    assert "The request, as Kent Police will read it" in page  # the first one's, still
    # Another campaign's authority is not this campaign's either.
    assert client.get(f"{URL}?preview=west-mercia").status_code == 400


def test_the_letter_is_escaped(client, campaign):
    page = page_text(client, f"{URL}?preview=sussex")
    letter = re.search(r'<pre class="letter" id="letter-text">(.*?)</pre>', page, re.S).group(1)
    assert "Please give them &lt;script&gt;alert(1)&lt;/script&gt; by year." in letter
    assert "<script>alert(1)" not in page


def test_a_wording_that_cannot_be_written_out_is_explained(client, session, campaign):
    # Saved before the template limits: the campaign form would refuse it now.
    session.execute(CampaignVersion.__table__.update().where(
        CampaignVersion.campaign_id == campaign.id).values(request_text="{{ 'a' * 200000000 }}"))
    session.commit()
    for url in (URL, f"{URL}?preview=sussex"):
        response = client.get(url)
        assert response.status_code == 200
        assert _letter(response.get_data(as_text=True)).startswith(
            "(This wording cannot be written out: line 1: the * operator")


def test_a_campaign_with_no_request_yet_shows_the_placeholder_authority(client, session, campaign):
    for found in requests.campaign_requests(session, campaign):
        campaigns.remove_request(session, TEST_ACTOR, found)
    session.commit()
    page = page_text(client, URL)
    assert "The request, as Example Police will read it" in page
    assert "How many offences did Example Police record?" in _letter(page)
    assert 'id="letter-preview"' not in page  # no authority to choose
