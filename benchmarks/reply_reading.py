"""How well foitrack reads the sections a reply cites: precision and recall over generated letters.

    python -m benchmarks.reply_reading [--letters 3000] [--seed 17]

Generates reply letters (seeded, so the same corpus each run) the way police forces write them:
a reference line, the request quoted back (which names sections of other Acts), the decision,
boilerplate about the Act, the requester's rights (internal review, the Commissioner, s.50)
and an address. Each letter cites some of s.12, s.14, s.21-s.44, s.40(2), s.40(5), "neither
confirm nor deny", "not held", a clarification request (s.1(3)), a fees notice (s.9) or a
public interest extension (s.10(3)), each in several wordings, alone or together, or cites
none (a plain answer, an acknowledgement). Distractors are mixed into every kind of letter:
dates, reference numbers, "the Freedom of Information Act 2000", the general duty of s.1, the
s.17 notice, paragraphs of other documents, sections of other Acts, the force's own numbers,
a section it says it is not relying on, a postcode. Prints micro-averaged precision and recall
of the proposed labels and the figures per label. Not part of the test suite (a small run is).
"""

from __future__ import annotations

import argparse
import random
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from foitrack.domain.reply_reading import read_reply

FORCES = ["Kent Police", "West Mercia Police", "Lancashire Constabulary", "Thames Valley Police",
          "the Metropolitan Police Service", "Devon and Cornwall Police", "Gwent Police",
          "South Yorkshire Police", "Essex Police", "Cheshire Constabulary", "Durham Constabulary",
          "Police Scotland", "Dyfed-Powys Police", "Northumbria Police", "Merseyside Police"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "September", "October",
          "November", "December"]

# The grounds a letter may rest on, with the subsections forces write after them and the name
# the Act gives each.
GROUNDS: dict[str, tuple[list[str], str]] = {
    "s.12": (["", "(1)"], "cost of compliance exceeds appropriate limit"),
    "s.14": (["", "(1)", "(2)"], "vexatious or repeated requests"),
    "s.21": (["", "(1)"], "information accessible to the applicant by other means"),
    "s.22": (["", "(1)"], "information intended for future publication"),
    "s.23": (["(1)", "(5)"], "information supplied by, or concerning, certain security bodies"),
    "s.24": (["(1)", "(2)"], "national security"),
    "s.30": (["(1)", "(1)(a)", "(1)(a)(i)", "(2)"], "investigations and proceedings"),
    "s.31": (["(1)", "(1)(a)", "(1)(a)(b)", "(1)(a)(b)(c)"], "law enforcement"),
    "s.38": (["(1)", "(1)(a)(b)"], "health and safety"),
    "s.40(2)": (["(2)", "(2) and (3A)(a)", "(2) by virtue of (3A)(a)", "(2)"], "personal information"),
    "s.40(5)": (["(5)", "(5B)(a)(i)", "(5)(b)(i)"], "personal information"),
    "s.41": (["", "(1)"], "information provided in confidence"),
    "s.43": (["(2)"], "commercial interests"),
    "s.44": (["(1)(a)", ""], "prohibitions on disclosure"),
}
# Subsections that take away the duty to confirm or deny, for neither-confirm-nor-deny letters.
NCND_GROUNDS = {"s.23": "(5)", "s.24": "(2)", "s.30": "(3)", "s.31": "(3)", "s.38": "(2)",
                "s.40(5)": "(5)"}
PROVIDED = "provided"  # a letter citing nothing


@dataclass
class Letter:
    text: str
    truth: frozenset[str]


def section_text(rng: random.Random, ground: str, sub: str | None = None) -> str:
    """The section as a force might write it: 'Section 31(1)(a)', 's31', 'S.40 (2)'..."""
    number = ground.split("(")[0].removeprefix("s.")
    if ground.startswith("s.40"):
        number = "40"
    if sub is None:
        sub = rng.choice(GROUNDS[ground][0])
    style = rng.randrange(9)
    if style in (0, 1, 2):
        return f"Section {number}{sub}"
    if style == 3:
        return f"section {number}{sub}"
    if style == 4:
        return f"s.{number}{sub}"
    if style == 5:
        return f"s{number}{sub}"
    if style == 6:
        return f"S{number}{sub}"
    if style == 7:
        return f"S.{number} {sub}".rstrip()
    return f"section {number} {sub}".rstrip()


def _harm(rng: random.Random) -> str:
    return rng.choice([
        "the prevention or detection of crime", "the apprehension or prosecution of offenders",
        "the force's ability to carry out its policing role", "the safety of officers and staff",
        "ongoing investigations", "the health and safety of individuals"])


def exemption_sentence(rng: random.Random, ground: str, force: str) -> str:
    sec = section_text(rng, ground)
    title = GROUNDS[ground][1]
    act = rng.choice(["", " of the Act", " of the Freedom of Information Act 2000", " FOIA",
                      " of the FOIA"])
    options = [
        f"{force} is relying on {sec}{act} ({title}) to withhold this information.",
        f"The information you have requested is exempt from disclosure by virtue of {sec}{act}.",
        f"{sec} – {title.capitalize()}\nThis exemption applies to the information requested, "
        f"as disclosure would be likely to prejudice {_harm(rng)}.",
        f"We consider that {sec}{act} is engaged in respect of part of your request.",
        f"After careful consideration we have decided to withhold the figures under {sec}.",
        f"Exemption applied: {sec} – {title}.",
        f"This part of your request is refused in accordance with {sec}{act}.",
        f"The exemption at {sec} has been applied because disclosure would prejudice {_harm(rng)}.",
        f"In this instance {sec} applies, and the public interest test favours withholding.",
        f"Please accept this letter as a refusal notice; the information is exempt under {sec}.",
        f"{force} has applied {sec}{act} to the names and collar numbers of officers.",
        # Written after the reader, to see how it does on wordings it was not fixed for.
        f"We are withholding this under the exemption at {sec} ({title}).",
        f"Exemptions cited: {sec} {title.title()}.",
        f"The harm in releasing these details is such that {sec} is engaged; the public "
        "interest favours non-disclosure.",
        f"Having weighed the arguments, {force} finds that {sec}{act} applies to question 2.",
        # A third batch, written last and scored without changing the reader (see the docs).
        f"Question 3 is refused ({sec}).",
        f"Disclosure of the tactics used would undermine policing; accordingly {sec} is cited.",
    ]
    if ground == "s.40(2)":
        options += [
            f"Names of third parties have been withheld under {sec}, as they are personal data "
            "and disclosure would breach the data protection principles.",
            f"The information is personal data of third parties and is exempt under {sec}{act}."]
    if ground == "s.21":
        options += [
            f"This information is reasonably accessible to you by other means, as it is already "
            f"published on the police.uk website, and so {sec} applies.",
            "The information you requested is reasonably accessible to you by other means: it is "
            "published on our website."]
    if ground == "s.22":
        options.append(f"The figures will be published in our annual report in October, so {sec} "
                       "(information intended for future publication) applies for now.")
    return rng.choice(options)


def cost_sentences(rng: random.Random, force: str) -> list[str]:
    sec = section_text(rng, "s.12")
    first = rng.choice([
        "To answer your request would mean reading every custody record for the period, and we "
        "estimate that locating, retrieving and extracting the information would exceed the "
        "appropriate limit of £450 (18 hours at £25 an hour).",
        "The cost of complying with your request would exceed the appropriate limit set by the "
        "Fees Regulations.",
        f"We estimate it would take well over 18 hours to retrieve the information you have asked "
        f"for, as each of the {rng.randint(2, 9)},{rng.randint(100, 999)} files would have to be "
        f"read by hand.",
        "Compliance with your request would cost more than the £450 limit.",
        "Unfortunately your request cannot be answered within the appropriate limit, because "
        "the data is not held in a searchable form.",
        "Providing this information would go beyond the cost limit.",
        f"{force} is not able to answer your request within the cost limit of 18 hours.",
        f"The estimated time to comply is {rng.randint(19, 90)} hours, which is above the limit "
        "of 18 hours prescribed by the Regulations.",
        f"Answering would require a manual review of approximately {rng.randint(2, 9)},000 "
        "crime reports, which exceeds the fees limit.",
        f"This request engages {sec} (exceeding the cost threshold).",
        "Retrieving the figures would cost the force well in excess of £450.",
        f"I regret that we are unable to comply with your request because of the costs involved; "
        f"this notice is issued under {sec}.",
    ])
    then = rng.choice([
        f"Therefore your request is refused under {sec}.",
        f"This letter acts as a refusal notice under {sec} of the Act.",
        f"{sec} of the Freedom of Information Act 2000 therefore applies.",
        f"We are therefore relying on {sec} and will not be providing the information.",
        "",
        "You may wish to narrow your request, for example to a single year, so that it can be "
        "answered within the limit.",
    ])
    return [first, then] if then else [first]


def vexatious_sentences(rng: random.Random) -> list[str]:
    sec = section_text(rng, "s.14", rng.choice(["", "(1)"]))
    return [rng.choice([
        f"We consider this request to be vexatious under {sec}.",
        "Your request is refused as vexatious, given the burden your previous 14 requests this "
        "year have placed on the unit.",
        f"This request is substantially similar to the one you made in March, and we are "
        f"therefore relying on {section_text(rng, 's.14', '(2)')} (repeated requests).",
        f"{sec} of the Act provides that we need not comply with a request which is vexatious; we "
        "have concluded that yours is.",
        "This is a repeated request, as we answered an identical request from you on 3 March.",
        "The force has decided that the request is vexatious and will not be answered.",
        f"{sec} of the FOIA applies to this request.",
        "We are treating this request as vexatious.",
    ])]


def ncnd_sentences(rng: random.Random, force: str, ground: str) -> list[str]:
    sec = section_text(rng, ground, NCND_GROUNDS[ground])
    main = rng.choice([
        f"{force} can neither confirm nor deny that it holds any information relevant to your "
        f"request, by virtue of {sec}.",
        f"We are unable to confirm or deny whether we hold the information, as {sec} applies.",
        f"{force} will neither confirm nor deny whether the information is held, relying on "
        f"{sec} of the Act.",
        f"The duty in section 1(1)(a) to confirm or deny does not apply, by virtue of {sec}.",
        f"In accordance with the Act, this letter represents a refusal notice: {force} neither "
        f"confirms nor denies that the information is held, as {sec} applies.",
        f"By virtue of {sec}, {force} is exempt from the duty to confirm or deny whether it holds "
        "this information.",
        f"To confirm or deny whether we hold this information would itself disclose exempt "
        f"information; we therefore neither confirm nor deny, by virtue of {sec}.",
        f"We cannot say whether or not any information is held, as {sec} of the Act applies.",
        f"{force} does not confirm or deny that information of this kind exists ({sec}).",
    ])
    extra = rng.choice(["", "This response should not be taken as an indication that the "
                        "information you requested is or is not held.",
                        "Confirming or denying would itself reveal whether a person was under "
                        "investigation."])
    return [main, extra] if extra else [main]


def not_held_sentences(rng: random.Random, force: str) -> list[str]:
    return [rng.choice([
        f"Having searched our systems, I can confirm that {force} does not hold the information "
        "you have requested.",
        "No information is held.",
        f"The information requested is not held by {force}.",
        "We do not record data in the way requested, so this information is not held.",
        "Our searches found no information falling within the scope of your request.",
        f"{force} holds no recorded information about this.",
        "We do not hold a central record of these incidents.",
        "Unfortunately the force doesn't collate this data, so we cannot provide it.",
        "I can confirm that no data is held on this matter by the force.",
        "A thorough search has been carried out and no relevant records were located.",
        "We have no record of any such incidents.",
        "This is not information the force records.",
        "There is no information held that would answer your question.",
        "Our systems do not capture the ethnicity of victims, so we have nothing to give you.",
    ])]


def clarification_sentences(rng: random.Random) -> list[str]:
    first = rng.choice([
        "Before we can proceed, could you please clarify what you mean by 'incidents'?",
        "We require further clarification in order to identify and locate the information you "
        "have asked for.",
        f"{section_text(rng, 's.12', '').replace('12', '1(3)')} of the Act allows us to ask for "
        "further information: please let us know the time period you are interested in.",
        "Your request is not clear enough for us to answer; please could you be more specific "
        "about which offences you mean?",
        "I would be grateful if you could clarify whether you want figures for each year or a "
        "single total.",
        "We need you to clarify which of our departments you are asking about.",
        "So that we can deal with your request, please tell us which time period you are "
        "interested in.",
        "Could you please provide further details of the incident you are referring to, such as "
        "a date or location?",
        "Your request could be read in more than one way; can you confirm whether you mean "
        "arrests or charges?",
    ])
    then = rng.choice(["", "The 20 working day period will not start until your clarification is "
                       "received.", "We will not be able to respond until we hear from you."])
    return [first, then] if then else [first]


def fees_sentences(rng: random.Random) -> list[str]:
    return [rng.choice([
        "Please find attached a fees notice under section 9 of the Act.",
        f"The fee for this request is £{rng.randint(5, 60)}.{rng.randint(10, 99)} for photocopying "
        "and postage; please send a cheque payable to the Police and Crime Commissioner.",
        f"A charge of £{rng.randint(10, 40)}.00 will be made for disbursements, payable within "
        "three months of this notice.",
        f"This letter is a fees notice: £{rng.randint(5, 90)}.00 is payable before we can send the "
        "information.",
        f"In line with {section_text(rng, 's.12', '').replace('12', '9')} we will not process "
        "your request until the fee has been paid.",
        f"Under section 9 of the Act, we are issuing a fees notice for £{rng.randint(5, 30)}.60.",
        f"We are able to provide copies on payment of £{rng.randint(2, 9)}.40 to cover postage.",
        f"Before we send the documents, a fee of £{rng.randint(5, 30)}.00 must be paid.",
    ])]


def extension_sentences(rng: random.Random, force: str, ground: str) -> list[str]:
    sec = section_text(rng, ground)
    first = rng.choice([
        f"We have not yet reached a decision on where the balance of the public interest lies in "
        f"relation to {sec}, and need to extend the time limit by a further 20 working days "
        f"(section 10(3)).",
        f"{section_text(rng, 's.12', '').replace('12', '10(3)')} allows us to extend the "
        f"deadline while we consider the public interest test; the exemption we are considering "
        f"is {sec}.",
        f"I am writing to let you know that {force} needs more time to consider the public "
        f"interest in relation to {sec}.",
        f"The information may be exempt under {sec}, which requires us to weigh the public "
        f"interest, so we are extending our response by up to 20 working days.",
        f"Please note that we are extending the deadline for our response under section 10(3) "
        f"while we consider the public interest in applying {sec}.",
        f"Owing to the need to weigh the public interest in relation to {sec}, the response date "
        "has been moved back by 20 working days.",
        f"We need additional time to consider the public interest in disclosure under {sec}.",
    ])
    day = rng.randint(1, 28)
    return [first, f"We now expect to respond by {day} {rng.choice(MONTHS)} 2019."]


def provided_sentences(rng: random.Random, force: str) -> list[str]:
    return [rng.choice([
        "Please find below the information you requested.",
        "The figures are shown in the attached spreadsheet.",
        f"In response to your questions: Q1: {rng.randint(3, 900)}. Q2: {rng.randint(0, 90)}.",
        f"I can confirm that {force} holds the information, and it is provided below.",
        "The answers to your questions are as follows.",
        f"The total number of reports in 2018 was {rng.randint(12, 4000)}.",
    ])]


def acknowledgement_sentences(rng: random.Random) -> list[str]:
    return [rng.choice([
        "We acknowledge receipt of your request, which we received on 2 May.",
        "Your request has been logged and you will receive a response within 20 working days.",
        "We have received your request and will respond no later than 31 May 2019.",
    ])]


# Sentences any letter may hold, none of them a citation.
def distractors(rng: random.Random, force: str, truth: set[str]) -> list[str]:
    year = rng.choice([2018, 2019, 2020])
    pool: list[str] = [
        f"Thank you for your request for information dated {rng.randint(1, 28)} "
        f"{rng.choice(MONTHS)} {year}, reference FOI {year}/{rng.randint(1, 999)}.",
        "Your request has been dealt with under the Freedom of Information Act 2000.",
        "Section 1 of the Freedom of Information Act 2000 places two duties on public "
        "authorities: to confirm whether information is held, and to communicate it.",
        "Section 17 of the Act requires a public authority to give reasons when it refuses a "
        "request.",
        f"Please see paragraph {rng.randint(2, 44)} of our publication scheme for how we "
        "publish data.",
        f"{force}'s {rng.randint(21, 44)} neighbourhood teams each record this differently.",
        f"You asked: 'How many stop and searches were carried out under section 60 of the "
        f"Criminal Justice and Public Order Act 1994 and section 43 of the Terrorism Act 2000 in "
        f"{year}?'",
        f"Your question about section 43 Terrorism Act searches covers {rng.randint(30, 40)} "
        "sites.",
        f"You asked how many offences under section 39 of the Criminal Justice Act 1988 were "
        f"recorded in the {rng.randint(12, 36)} months to March.",
        "There is no charge for this information.",
        f"Some exemptions, such as {section_text(rng, 's.30', '')}, require us to consider the "
        "public interest.",
        "If information is not held, we will always tell you so.",
        f"Further detail is in section {rng.randint(21, 40)} of the attached annual report.",
        f"The data covers the {rng.choice([12, 24, 36])} months to 31 March {year}.",
        "We aim to answer every request within 20 working days.",
        f"{force} is committed to openness under the Act (FOI {year}/{rng.randint(10, 44)}).",
        "We have answered within the cost limit of 18 hours.",
        "We have considered whether any exemption applies and none does.",
        "Where a request is vexatious, section 14 allows us to refuse it.",
        "Unlike last year, no exemptions have been applied.",
        f"Your request was received on 12 March and given reference {year}/{rng.randint(12, 44)}.",
        "In previous years we have sometimes applied section 31 to this kind of question.",
        f"Our reference is S{rng.randint(21, 44)}/{year}.",
    ]
    if "s.14" not in truth:
        pool.append("We have not relied on section 14, although your request is similar to one "
                    "we answered in March.")
        pool.append(f"{section_text(rng, 's.14', '')} has not been applied to this request.")
    if "s.1(3)" not in truth:
        pool.append(f"Thank you for your clarification of {rng.randint(1, 28)} "
                    f"{rng.choice(MONTHS)}.")
    if "s.40(2)" not in truth:
        pool.append("We do not consider that section 40(2) applies to the totals, as no "
                    "individual can be identified from them.")
    return rng.sample(pool, rng.randint(2, 4))


RIGHTS = [
    "If you are dissatisfied with this response, you may ask for an internal review within 40 "
    "working days. If you remain dissatisfied, you may complain to the Information "
    "Commissioner under section 50 of the Act.",
    "Complaint rights: you have the right to request an internal review of our decision to apply "
    "{sec}. After that you can apply to the ICO (Wycliffe House, Water Lane, Wilmslow SK9 5AF).",
    "Should you be unhappy with the way your request has been handled, please write to the "
    "Information Compliance Unit. You also have the right to appeal to the Information "
    "Commissioner under s.50.",
    "Your attention is drawn to the attached sheet, which details your right of complaint.",
]
ADDRESSES = [
    "Information Compliance Unit, Carbrook House, Carbrook Hall Road, Sheffield S9 2EH",
    "Freedom of Information Unit, PO Box 12, Hindlip, Worcester WR3 8SP",
    "Data Office, Force Headquarters, Sutton Road, Maidstone ME15 9BZ",
    "Disclosure Team, Snig Hill, Sheffield S3 8LY",
    "FOI Unit, 30 Bridge Street, Sheffield S35 2EH",
]


def letter(rng: random.Random) -> Letter:
    """One reply letter and the labels it truly cites."""
    force = rng.choice(FORCES)
    shape = rng.random()
    body: list[str] = []
    truth: set[str] = set()
    if shape < 0.20:
        body += provided_sentences(rng, force)
    elif shape < 0.25:
        body += acknowledgement_sentences(rng)
    elif shape < 0.35:
        body += cost_sentences(rng, force)
        truth.add("s.12")
    elif shape < 0.40:
        body += vexatious_sentences(rng)
        truth.add("s.14")
    elif shape < 0.55:
        # One or more exemptions, the information partly given or withheld in full.
        grounds = rng.sample([g for g in GROUNDS if g not in ("s.12", "s.14")], rng.choice([1, 1, 2, 3]))
        if rng.random() < 0.4:
            body += provided_sentences(rng, force)
        for ground in grounds:
            body.append(exemption_sentence(rng, ground, force))
        truth.update(grounds)
    elif shape < 0.65:
        ground = rng.choice(list(NCND_GROUNDS))
        body += ncnd_sentences(rng, force, ground)
        truth.update({"ncnd", ground})
    elif shape < 0.75:
        body += not_held_sentences(rng, force)
        truth.add("not_held")
    elif shape < 0.83:
        body += clarification_sentences(rng)
        truth.add("s.1(3)")
    elif shape < 0.89:
        body += fees_sentences(rng)
        truth.add("s.9")
    else:
        ground = rng.choice(["s.24", "s.30", "s.31", "s.38", "s.43"])
        body += extension_sentences(rng, force, ground)
        truth.update({"s.10(3)", ground})
    extra = distractors(rng, force, truth)
    opening = [f"Dear {rng.choice(['Requester', 'Ms Patel', 'Mr Jones', 'Sir or Madam'])},", extra[0]]
    rights = rng.choice(RIGHTS)
    if "{sec}" in rights:
        cited = sorted(g for g in truth if g.startswith("s.") and g not in ("s.1(3)", "s.9", "s.10(3)"))
        rights = rights.replace("{sec}", section_text(rng, cited[0]) if cited else "the Act")
    paragraphs = [*opening, " ".join(body) if rng.random() < 0.5 else "\n\n".join(body),
                  " ".join(extra[1:]), rights, "Yours sincerely,", rng.choice(ADDRESSES)]
    return Letter("\n\n".join(p for p in paragraphs if p), frozenset(truth))


def corpus(letters: int, seed: int = 17) -> list[Letter]:
    rng = random.Random(seed)
    return [letter(rng) for _ in range(letters)]


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


def score(letters: Sequence[Letter], read: Callable[[str], frozenset[str]] | None = None,
          ) -> tuple[Score, dict[str, Score], list[tuple[Letter, frozenset[str]]]]:
    """Micro-averaged and per-label scores, and the letters read wrongly."""
    read = read or (lambda text: read_reply(text).labels)
    total, by_label = Score(), {}
    wrong = []
    for item in letters:
        found = read(item.text)
        for label in found | item.truth:
            each = by_label.setdefault(label, Score())
            if label in found and label in item.truth:
                each.tp += 1
                total.tp += 1
            elif label in found:
                each.fp += 1
                total.fp += 1
            else:
                each.fn += 1
                total.fn += 1
        if found != item.truth:
            wrong.append((item, found))
    return total, by_label, wrong


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=3000, help="how many letters to generate")
    parser.add_argument("--seed", type=int, default=17, help="the generator's seed")
    parser.add_argument("--show-wrong", type=int, default=0, help="print this many misread letters")
    args = parser.parse_args(argv)
    letters = corpus(args.letters, args.seed)
    total, by_label, wrong = score(letters)
    kinds = Counter(len(item.truth) for item in letters)
    print(f"{len(letters):,} letters ({kinds[0]:,} citing nothing), seed {args.seed}")
    print(f"{'label':<10} {'cited':>6} {'tp':>6} {'fp':>5} {'fn':>5} {'precision':>9} {'recall':>7}")
    for label in sorted(by_label, key=lambda k: (not k.startswith("s."), k)):
        each = by_label[label]
        print(f"{label:<10} {each.tp + each.fn:>6} {each.tp:>6} {each.fp:>5} {each.fn:>5} "
              f"{each.precision:>9.3f} {each.recall:>7.3f}")
    print(f"{'all':<10} {total.tp + total.fn:>6} {total.tp:>6} {total.fp:>5} {total.fn:>5} "
          f"{total.precision:>9.3f} {total.recall:>7.3f}")
    for item, found in wrong[:args.show_wrong]:
        print("-" * 60)
        print(f"truth {sorted(item.truth)} read {sorted(found)}")
        print(item.text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
