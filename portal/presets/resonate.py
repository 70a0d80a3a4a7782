"""Reverb Music Co-operative Society Ltd: the reference co-op, a fictional Irish society.

Listeners, artists and workers own a music streaming service (the shape of Resonate).
"""

from __future__ import annotations

from datetime import date

from ..models import AdmissionRule, PaymentForm, QuestionKind, ResolutionKind, Role
from .spec import (
    CandidatePreset,
    ClassPreset,
    Demo,
    DemoPerson,
    DirectorPreset,
    ElectionPreset,
    ExtraApplicant,
    ExtraMember,
    MeetingPreset,
    Preset,
    ProposalPreset,
    ProxyPreset,
    QuestionPreset,
    RequisitionPreset,
    ResolutionPreset,
    ShareTypePreset,
)

# One €1 voting membership share per member, and supporter shares (non-voting, in fives,
# repaid at par on withdrawal).
SHARE_TYPES = (
    ShareTypePreset(
        "membership",
        "Membership share",
        "The {par} share every member holds: it carries the member's vote. It cannot be "
        "transferred and is cancelled when the member leaves.",
        voting=True,
        max_quantity=1,
        cancelled_on_ceasing=True,
    ),
    ShareTypePreset(
        "supporter",
        "Supporter share",
        "Non-voting shares that fund the co-op, bought in multiples of 5 and repaid at par "
        "on withdrawal under the Supporter Share Terms.",
        min_quantity=5,
        step=5,
        withdrawable=True,
    ),
)

CLASSES = (
    ClassPreset(
        code="listener",
        name="Listener",
        summary="For anyone who streams music on Reverb and wants a say in how it is run.",
        description="Stream fairly: your subscription pays artists per play. Listener "
        "members elect listener directors and vote at general meetings.",
        admission_rule=AdmissionRule.AUTOMATIC,
        annual_fee_minor=1000,
        board_seats=2,
        voting_weight=35,
    ),
    ClassPreset(
        code="artist",
        name="Artist",
        summary="For musicians, bands and labels whose music is on Reverb.",
        description="Own the platform that plays your music, earn more per stream and "
        "elect artists to the board. There is no annual fee; staff check your releases.",
        admission_rule=AdmissionRule.STAFF_REVIEW,
        board_seats=3,
        voting_weight=45,
        questions=(
            QuestionPreset("artist_name", "Artist or band name"),
            QuestionPreset(
                "release_url",
                "Link to one of your releases",
                QuestionKind.URL,
                help="On Reverb or any other service, so we can check it is yours.",
            ),
        ),
    ),
    ClassPreset(
        code="worker",
        name="Worker",
        summary="For the people who build and run Reverb, paid or volunteer.",
        description="Build the service you own. Workers are admitted once they have "
        "contributed the hours the Membership Policy sets, and elect worker directors.",
        admission_rule=AdmissionRule.STAFF_REVIEW,
        board_seats=2,
        voting_weight=20,
        questions=(
            QuestionPreset(
                "team",
                "Which team do you work with?",
                help="For example engineering, support, curation, operations.",
            ),
            QuestionPreset(
                "hours",
                "Hours contributed so far",
                QuestionKind.NUMBER,
                help="The Membership Policy asks for 50 hours before admission.",
            ),
        ),
    ),
)

PLACE = "The Lantern Rooms, Smithfield Square, Dublin 7"

# Who voted at the 2025 AGM, in the order of each resolution's ``votes``: the chair, the
# listener, the artist, the worker (who votes as a worker), then Aisling, Darragh, Orla,
# Cathal, Gráinne (who lapsed since), Ronan (who left since) and Fergal.
VOTERS_2025 = (
    "chair@reverb.example",
    "listener@reverb.example",
    "artist@reverb.example",
    "worker@reverb.example",
    "member1@reverb.example",
    "member2@reverb.example",
    "member3@reverb.example",
    "member4@reverb.example",
    "member5@reverb.example",
    "member6@reverb.example",
    "member9@reverb.example",
)
AGM_2025 = MeetingPreset(
    title="Annual General Meeting 2025",
    place=PLACE,
    online_url="https://meet.reverb.example/agm-2025",
    held_on=date(2025, 9, 27),
    voters=VOTERS_2025,
    chair="Pádraig Walsh",
    discussion={
        "Apologies for absence": "Apologies were received from four members.",
        "Minutes of the last annual general meeting": (
            "No corrections were raised; the minutes were put to the vote as resolution 1."
        ),
        "Annual report and accounts": (
            "The treasurer presented the accounts. Members asked how much of each stream "
            "reaches the artist; the board undertook to publish the figure each quarter."
        ),
        "Appointment of auditors": "The board's recommendation was noted without discussion.",
        "Election of directors to the board": (
            "No election was needed: the candidates for the two vacancies were returned unopposed."
        ),
        "Resolutions": "Each resolution was voted on in the portal before the meeting.",
        "Any other business": (
            "Members asked for a forum for proposing resolutions; the board will bring "
            "proposals to the 2026 AGM."
        ),
        "Close": "The chair closed the meeting at 13:05.",
    },
    resolutions=(
        ResolutionPreset(
            "Minutes of the AGM of 22 June 2024",
            "WHEREAS the draft minutes of the annual general meeting held on 22 June 2024 "
            "were published to members with the notice of this meeting;\n\n"
            "RESOLVED that those minutes be approved as a correct record and signed by "
            "the chair.",
            votes="FFFFFXFFF.F",
        ),
        ResolutionPreset(
            "Annual report and accounts 2024",
            "WHEREAS the Board has laid before the meeting the annual report and the "
            "audited accounts for the year ended 31 December 2024, with the auditor's "
            "unqualified opinion;\n\n"
            "RESOLVED that the annual report and the accounts be received.",
            votes="FFFFFAFFFXF",
        ),
        ResolutionPreset(
            "Amendments to the Rules: the holding limit and proxies",
            "WHEREAS the Board proposes, as set out in the notice of this meeting, that "
            "Rule 15.3 raise the most a member may hold in shares from €50,000 to "
            "€150,000, that Rule 28 let members appoint up to five proxies in the portal "
            "and change them until 48 hours before a meeting, and that Rule 5.1 define "
            "that deadline;\n\n"
            "RESOLVED that the Rules be amended as set out in the notice, the amendments "
            "to take effect on registration.",
            votes="FFFFAFFXFFF",
            kind=ResolutionKind.SPECIAL,
        ),
        ResolutionPreset(
            "Publishing payments to artists every quarter",
            "WHEREAS 24 Listener members have proposed, under Rule 31.5, that members "
            "should not wait a year to learn what artists are paid;\n\n"
            "RESOLVED that the Board publish to members, within six weeks of the end of "
            "each quarter, the average rate paid to artists per play and the share of "
            "that quarter's income paid to artists.",
            votes="FFXFFFAFF.F",
        ),
        ResolutionPreset(
            "Worker members' qualifying contribution",
            "WHEREAS the Membership Policy asks worker members for a qualifying "
            "contribution, and worker members have asked that it be the same for paid "
            "and volunteer work;\n\n"
            "RESOLVED that the qualifying contribution of a worker member be 50 hours of "
            "work for Reverb, paid or volunteer, in the last 12 months.",
            votes="...F...F..F",
            kind=ResolutionKind.CLASS,
            class_code="worker",
        ),
    ),
)

# Who has voted at the 2026 AGM so far: the chair, the listener (on the minutes only,
# so the other resolutions await her vote), the artist, the worker, Aisling and Cathal.
VOTERS_2026 = (
    "chair@reverb.example",
    "listener@reverb.example",
    "artist@reverb.example",
    "worker@reverb.example",
    "member1@reverb.example",
    "member4@reverb.example",
)
AGM_2026 = MeetingPreset(
    title="Annual General Meeting 2026",
    place=PLACE,
    online_url="https://meet.reverb.example/agm-2026",
    held_in_days=6,
    voters=VOTERS_2026,
    resolutions=(
        ResolutionPreset(
            "Minutes of the AGM of 27 September 2025",
            "WHEREAS the draft minutes of the annual general meeting held on 27 September "
            "2025 were published to members on 17 October 2025;\n\n"
            "RESOLVED that those minutes be approved as a correct record and signed by "
            "the chair.",
            votes="FFFFF.",
        ),
        ResolutionPreset(
            "The Listener annual fee, with a hardship waiver",
            "WHEREAS the Listener annual fee has been €10 since the Society was founded, "
            "and the cost of running the membership and its meetings has risen;\n\n"
            "WHEREAS no listener should lose their vote because they cannot pay;\n\n"
            "RESOLVED that from 1 January 2027 the Listener annual fee be €12; and that "
            "the Membership Officer may waive the fee for any listener member who asks on "
            "grounds of hardship, in confidence and without giving reasons to anyone else.",
            votes="F..AFF",
        ),
        ResolutionPreset(
            "Lowering the platform's share of each stream",
            "WHEREAS Reverb keeps 30 per cent of what a listener pays for each play to run "
            "the service, and 2025 closed with a surplus of €15,330;\n\n"
            "RESOLVED that from 1 April 2027 Reverb keep no more than 27 per cent of each "
            "play's income, the difference being paid to the artist and rights holders "
            "of the music played.",
            votes="F.FFA.",
        ),
        ResolutionPreset(
            "Class-weighted voting at general meetings",
            "WHEREAS Rule 27.3 weighs the classes' votes (Listener 35, Artist 45, Worker "
            "20) only on the application of a surplus, and each class should carry its "
            "weight whatever the question;\n\n"
            "RESOLVED that Rule 27 be amended so that every ordinary and special "
            "resolution at a general meeting is decided by class-weighted voting, a class "
            "casting no votes being left out and the others rescaled to 100.",
            votes="A.FFAF",
            kind=ResolutionKind.SPECIAL,
        ),
        ResolutionPreset(
            "Confirming a co-opted director",
            "WHEREAS the Board co-opted Deirdre Lawlor as a director in 2025 to fill a "
            "casual vacancy, and Rule 30.1 asks that every election be by secret "
            "ballot;\n\n"
            "RESOLVED that the co-option of Deirdre Lawlor be confirmed, and that she hold "
            "office until the end of the annual general meeting in 2028.",
            votes="F.F.XF",
            secret=True,
        ),
    ),
    # The forum members asked for at the 2025 AGM: Aisling proposed, Tadhg seconded.
    proposals=(
        ProposalPreset(
            proposer="member1@reverb.example",
            seconder="artist@reverb.example",
            reason="At the 2025 AGM members asked to follow the Board's decisions between "
            "general meetings; today they learn of them once a year.",
            resolution=ResolutionPreset(
                "Publishing the Board's minutes to members",
                "WHEREAS members learn what the Board has decided only at the annual "
                "general meeting;\n\n"
                "RESOLVED that the Board publish to members, within 30 days of each of its "
                "meetings, the minutes of that meeting, leaving out only what concerns a "
                "named person or a contract still being negotiated.",
                votes="X.FFFF",
            ),
        ),
    ),
    # Resolutions in order: the five above, then the members' one. Darragh leaves every
    # vote to Niamh (the listener, who has not cast it yet); Orla directs Tadhg but lets
    # him decide on the fee, and he cast two of her votes; Fergal directs the chair; Cathal
    # asked Siobhán, who has not answered, and then voted on four resolutions himself.
    proxies=(
        ProxyPreset("member2@reverb.example", "listener@reverb.example"),
        ProxyPreset(
            "member3@reverb.example", "artist@reverb.example", directions="F?FAXF", cast="F.F..."
        ),
        ProxyPreset("member9@reverb.example", directions="FFFAXF"),
        ProxyPreset(
            "member4@reverb.example", "worker@reverb.example", directions="FAFFFF", accepted=False
        ),
    ),
    # The board when the portal took over its record: the founding board (3 March 2025),
    # with Méabh and Rory returned unopposed at the 2025 AGM. Pádraig's, Orla's and
    # Ciara's terms end at this AGM: one listener seat and two artist seats are up.
    directors=(
        DirectorPreset("chair@reverb.example", "listener", date(2025, 3, 3)),
        DirectorPreset("member10@reverb.example", "listener", date(2025, 9, 27), 2),
        DirectorPreset("member3@reverb.example", "artist", date(2025, 3, 3)),
        DirectorPreset("member12@reverb.example", "artist", date(2025, 3, 3)),
        DirectorPreset("member11@reverb.example", "artist", date(2025, 9, 27), 2),
        DirectorPreset("member4@reverb.example", "worker", date(2025, 3, 3), 1),
        DirectorPreset("member9@reverb.example", "worker", date(2025, 3, 3), 1),
    ),
    # Two artist seats from five candidates, one listener seat from three. Orla and
    # Pádraig stand again; Ciara stands down. Tadhg (the artist demo member) nominated
    # Seán and seconded Aoibheann, and ranks the artist candidates when voting opens.
    elections=(
        ElectionPreset(
            "artist",
            2,
            (
                CandidatePreset(
                    "member3@reverb.example",
                    "I have sat on the board since Reverb was founded, and I want to finish "
                    "what we started: **publishing every quarter what each play pays**.\n\n"
                    "I record and tour with a folk trio from Waterford, and I know what a "
                    "late royalty statement does to a month.",
                    seconder="member12@reverb.example",
                ),
                CandidatePreset(
                    "member13@reverb.example",
                    "I run a small label in Limerick with nine artists on Reverb. On the "
                    "board I would push for:\n\n"
                    "- payments within 30 days of the end of each month;\n"
                    "- a fund for artists' first releases, paid from the surplus.",
                    seconder="member11@reverb.example",
                    nominator="artist@reverb.example",
                ),
                CandidatePreset(
                    "member14@reverb.example",
                    "Electronic producer, Dublin. I would bring the artists who are not on "
                    "Reverb yet: most of my scene still thinks a co-operative is a hobby. "
                    "I would hold open calls for artist members every quarter.",
                    seconder="artist@reverb.example",
                ),
                CandidatePreset(
                    "member15@reverb.example",
                    "Session drummer and sound engineer for twenty years. I want the board "
                    "to count the session players whose names are not on the release, and "
                    "to pay them their share of each play.",
                    seconder="worker@reverb.example",
                    nominator="member12@reverb.example",
                ),
                CandidatePreset(
                    "member16@reverb.example",
                    "Singer-songwriter from Mayo. I would make the board's papers readable "
                    "by every artist member, in plain words, *before* each board meeting.",
                    seconder="member11@reverb.example",
                ),
            ),
            # Tadhg (artist@) has not ranked yet: the demo's artist can.
            rankings=(
                ("member3@reverb.example", "1 3"),
                ("member11@reverb.example", "2 1 5"),
                ("member12@reverb.example", "3 1"),
                ("member13@reverb.example", "2 4"),
                ("member14@reverb.example", "3 2 1"),
                ("member15@reverb.example", "4 1"),
                ("member16@reverb.example", "5 3 2"),
            ),
        ),
        ElectionPreset(
            "listener",
            1,
            (
                CandidatePreset(
                    "chair@reverb.example",
                    "I have chaired the board since the founding. In a second term I want "
                    "listener members to vote on the price of a subscription, and a "
                    "hardship waiver that no one has to explain.",
                    seconder="listener@reverb.example",
                ),
                CandidatePreset(
                    "member1@reverb.example",
                    "I proposed publishing the board's minutes to members. On the board I "
                    "would see that it happens, and that listeners hear of decisions "
                    "before they read of them in the press.",
                    seconder="member10@reverb.example",
                    nominator="listener@reverb.example",
                ),
                CandidatePreset(
                    "member2@reverb.example",
                    "A listener since the first week. I would ask the board to put a "
                    "listener on every panel that decides what Reverb features.",
                    seconder="member1@reverb.example",
                ),
            ),
            # Sinéad (listener@) ranks for herself and, by his proxy, for Darragh.
            rankings=(
                ("chair@reverb.example", "1"),
                ("member1@reverb.example", "2 1"),
                ("member10@reverb.example", "1 2 3"),
            ),
        ),
    ),
)
MEETINGS = (AGM_2025, AGM_2026)

# Demo passwords are public by design: they are printed by `make run` and in the README.
DEMO = Demo(
    country="Ireland",
    bank="AIB",
    people=(
        DemoPerson(
            "Aoife Byrne",
            "admin@reverb.example",
            Role.ADMIN,
            "amber-lighthouse-fiddle-41",
            "admin: settings, staff accounts",
        ),
        DemoPerson(
            "Ciarán Doyle",
            "staff@reverb.example",
            Role.STAFF,
            "copper-kettle-harbour-27",
            "staff: applications, register, meetings",
        ),
        DemoPerson(
            "Máire Ní Dhónaill",
            "secretary@reverb.example",
            Role.STAFF,
            "heather-signal-lantern-85",
            "staff: the co-op's secretary",
            title="Secretary",
        ),
        DemoPerson(
            "Pádraig Walsh",
            "chair@reverb.example",
            Role.MEMBER,
            "marble-cedar-rowing-32",
            "member: listener, chair of the board",
            classes=("listener",),
            town="Galway",
        ),
        DemoPerson(
            "Niamh Kelly",
            "listener@reverb.example",
            Role.MEMBER,
            "velvet-tram-orchard-58",
            "member: a listener",
            classes=("listener",),
            town="Cork",
        ),
        DemoPerson(
            "Tadhg O'Sullivan",
            "artist@reverb.example",
            Role.MEMBER,
            "granite-banjo-meadow-63",
            "member: an artist",
            classes=("artist",),
            town="Limerick",
        ),
        DemoPerson(
            "Siobhán Murphy",
            "worker@reverb.example",
            Role.MEMBER,
            "saffron-ferry-compass-19",
            "member: artist and worker, votes as worker",
            classes=("artist", "worker"),
            town="Dublin",
        ),
        DemoPerson(
            "Eoin Gallagher",
            "applicant@reverb.example",
            Role.MEMBER,
            "willow-anchor-quartet-74",
            "applicant: an artist awaiting review",
            town="Derry",
            applies_to="artist",
            answers={
                "artist_name": "The Gallagher Tapes",
                "release_url": "https://music.example/gallagher-tapes",
            },
        ),
    ),
    answers={
        "artist": {"artist_name": "Harbour Lights", "release_url": "https://music.example/harbour"},
        "worker": {"team": "Engineering", "hours": "120"},
    },
    extra_members=(
        ExtraMember("Aisling Brennan", "listener", "Sligo"),
        ExtraMember("Darragh Quinn", "listener", "Kilkenny"),
        ExtraMember("Orla Fitzgerald", "artist", "Waterford"),
        ExtraMember("Cathal Ryan", "worker", "Dublin"),
        ExtraMember("Gráinne Moore", "listener", "Athlone", "lapsed"),
        ExtraMember("Ronan Keane", "listener", "Tralee", "ceased"),
        ExtraMember("Lorcan Byrne", "artist", "Bray", "unpaid"),
        ExtraMember("Clíodhna Walsh", "worker", "Ennis", "unpaid"),
        ExtraMember("Fergal Dunne", "worker", "Dublin"),
        # The board's listener and artists, and the artists standing at the 2026 AGM.
        ExtraMember("Méabh Collins", "listener", "Letterkenny"),
        ExtraMember("Rory Doherty", "artist", "Derry"),
        ExtraMember("Ciara Lynch", "artist", "Cork"),
        ExtraMember("Seán Kiernan", "artist", "Limerick"),
        ExtraMember("Aoibheann Daly", "artist", "Dublin"),
        ExtraMember("Dónal Hayes", "artist", "Galway"),
        ExtraMember("Eilís Moran", "artist", "Castlebar"),
    ),
    # The support team taken on this year, who joined as workers after the 2026 AGM's
    # record date: with them the Worker class has 21 members, so a requisition of a
    # worker class meeting needs 3 signatures (10 %, rule 22).
    newcomers=tuple(
        ExtraMember(name, "worker", town)
        for name, town in (
            ("Ailbhe Kavanagh", "Dublin"),
            ("Brendan Foley", "Naas"),
            ("Caoimhe Reilly", "Dublin"),
            ("Declan Hughes", "Drogheda"),
            ("Eimear Costello", "Galway"),
            ("Fionn Brady", "Dublin"),
            ("Gearóid Lynch", "Cork"),
            ("Hazel Nolan", "Dublin"),
            ("Íde Carroll", "Wexford"),
            ("Jamie Farrell", "Dublin"),
            ("Keelin Duffy", "Maynooth"),
            ("Liam Whelan", "Dublin"),
            ("Muireann Power", "Waterford"),
            ("Niall Cullen", "Dublin"),
            ("Oisín Fahy", "Galway"),
            ("Peadar Kinsella", "Dublin"),
            ("Róisín Tierney", "Navan"),
            ("Saoirse McGrath", "Dublin"),
        )
    ),
    # Cathal started it and Ailbhe, of the new support team, signed: 2 of the 3 needed.
    requisitions=(
        RequisitionPreset(
            purpose="Since the support team grew this year, workers on its rota have been on "
            "call at weekends without any allowance. We ask for a meeting of the Worker "
            "class to agree what to put to the Board.",
            resolutions="RESOLVED that the Worker class ask the Board to agree an on-call "
            "allowance with the worker members before 1 March 2027.",
            signers=("member4@reverb.example", "member17@reverb.example"),
            class_code="worker",
        ),
    ),
    extra_applicants=(
        ExtraApplicant(
            "Sinéad Daly",
            "worker",
            {"team": "Support", "hours": "35"},
            "Dundalk",
            question="Which weeks did you volunteer on the support rota?",
        ),
        ExtraApplicant(
            "Fiachra Nolan",
            "artist",
            {"artist_name": "Tidewater Choir", "release_url": "https://music.example/tidewater"},
            "Dundalk",
        ),
    ),
    investment="supporter",
    holder="listener@reverb.example",
    chair="chair@reverb.example",
    purchases=(("artist@reverb.example", 100), ("member1@reverb.example", 15)),
    withdrawal_reason="Paying for a new guitar.",
    lapse_note="Annual fee unpaid",
    resignation_note="Moving abroad",
    founded_on=date(2025, 3, 3),
    meetings=MEETINGS,
)

RESONATE = Preset(
    name="resonate",
    settings={
        "name": "Reverb Music Co-op",
        "legal_name": "Reverb Music Co-operative Society Ltd",
        "registration": "Registered Society No. 5678R (Ireland)",
        "address": "12 Ormond Quay Upper, Dublin 7, D07 X2Y3, Ireland",
        "tagline": "A streaming music service owned by the people who make it, "
        "play it and build it.",
        "purpose": "Reverb is a multi-stakeholder co-operative. Artists, listeners and the "
        "workers who build the service own it together, share its surplus fairly and decide "
        "its future one member, one vote.",
        "contact_email": "members@reverb.example",
        "currency": "EUR",
        "timezone": "Europe/Dublin",
        "max_holding_minor": 15_000_000,  # €150,000 (rule 15.3)
        "rulebook_version": "Rules of Reverb Music Co-operative Society Ltd, 2025 edition",
        "first_signatory_title": "Secretary",
        "first_signatory_name": "Máire Ní Dhónaill",
        "second_signatory_title": "Director",
        "second_signatory_name": "Pádraig Walsh",
        "bank_account_name": "Reverb Music Co-operative Society Ltd",
        "bank_name": "AIB",
        "payment_form": PaymentForm.IBAN,
        "bank_iban": "IE29AIBK93115212345678",
        "bank_bic": "AIBKIE2D",
        "reference_prefix": "RVB",
    },
    classes=CLASSES,
    share_types=SHARE_TYPES,
    demo=DEMO,
)
