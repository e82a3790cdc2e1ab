"""Rules, the licence register and waivers: reading them, and judging sites with them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from reports.register import RegisterError, parse_register
from reports.rules import RulesError, parse_rules
from reports.verdict import RulesJudge, Verdict

CATEGORIES = ("icp_filing", "icp_license", "vats_license", "psb_filing", "uscc")


def finding(category: str, number: str, status: str = "valid", link_status: str = "ok",
            problems: tuple[str, ...] = (), location: str = "footer") -> dict[str, Any]:
    return {"category": category, "number": number, "status": status,
            "problems": list(problems), "link_status": link_status, "location": location}


ICP = finding("icp_filing", "京ICP备20018813号-3")
PSB = finding("psb_filing", "京公网安备11010802012345号")
VATS = finding("vats_license", "京B2-20202418")


def site(host: str = "www.example.cn", *findings: dict[str, Any], **extra: str) -> dict[str, Any]:
    return {"outcome": "ok", "reason": None, "host": host, "final_url": f"https://{host}/",
            "fetched_at": "2026-11-29T08:00:00Z", "findings": list(findings), "extra": extra}


RULES = parse_rules("""
[defaults]
require = ["icp_filing"]

[links]
psb_filing = "notice"

[[group]]
name = "shops"
domains = ["*.shop.example.cn"]
require = ["icp_filing", "psb_filing", "vats_license"]

[[group]]
name = "finance"
columns = { business_unit = ["金融", "Finance"] }
require = ["icp_filing", "psb_filing"]

[[waiver]]
site = "old.example.cn"
category = "psb_filing"
problem = "missing"
owner = "法务部 王芳"
reason = "police filing in progress"
expires = 2027-03-31

[[waiver]]
site = "*.example.cn"
problem = "stale_link"
owner = "IT"
reason = "theme update scheduled"
expires = 2026-06-30
""", CATEGORIES)

RULE_CASES = [
    ("default: a valid ICP number is enough", site("www.example.cn", ICP), Verdict("compliant")),
    ("group by domain needs police and VATS numbers", site("a.shop.example.cn", ICP),
     Verdict("non_compliant", ("missing:psb_filing", "missing:vats_license"))),
    ("group by domain satisfied", site("a.shop.example.cn", ICP, PSB, VATS), Verdict("compliant")),
    ("group by CSV column", site("bank.example.cn", ICP, business_unit="金融"),
     Verdict("non_compliant", ("missing:psb_filing",))),
    ("expect column overrides groups", site("a.shop.example.cn", ICP, expect="icp_filing uscc"),
     Verdict("non_compliant", ("missing:uscc",))),
    ("police link only a notice under these rules",
     site("www.example.cn", ICP, finding("psb_filing", "京公网安备11010802012345号", link_status="stale_link")),
     Verdict("compliant", (), ("psb_filing:stale_link",))),
    ("current waiver: shown as waived", site("old.example.cn", ICP, business_unit="Finance"),
     Verdict("compliant", (), (), ("missing:psb_filing (waived by 法务部 王芳 until 2027-03-31: "
                                    "police filing in progress)",))),
    ("expired waiver stops applying",
     site("www.example.cn", finding("icp_filing", "京ICP备20018813号-3", link_status="stale_link")),
     Verdict("non_compliant", ("icp_filing:stale_link",), ("waiver_expired:icp_filing:stale_link",))),
    ("malformed required number",
     site("www.example.cn", finding("icp_filing", "京ICP备2024001号", "malformed", problems=("digit_count",))),
     Verdict("non_compliant", ("icp_filing:digit_count",))),
]


@pytest.mark.parametrize(("result", "expected"), [c[1:] for c in RULE_CASES], ids=[c[0] for c in RULE_CASES])
def test_rules(result: dict[str, Any], expected: Verdict) -> None:
    assert RulesJudge(RULES)(result) == expected


BAD_RULES = [
    ("unknown top-level key", "[default]\nrequire = []\n", "line 1: unknown key(s) default"),
    ("unknown category", "[defaults]\nrequire = [\"icp_filling\"]\n", "line 1: unknown category icp_filling"),
    ("bad link severity", "\n[links]\nicp_filing = \"warning\"\n", "line 2: icp_filing must be"),
    ("waiver without owner on its line",
     "[defaults]\n\n[[waiver]]\nsite = \"a.cn\"\nreason = \"x\"\nexpires = 2027-01-01\n",
     "line 3: missing key 'owner'"),
    ("second waiver's typo named at its line",
     "[[waiver]]\nsite='a.cn'\nowner='x'\nreason='y'\nexpires=2027-01-01\n\n"
     "[[waiver]]\nsite='b.cn'\nowner='x'\nreason='y'\nexpiry=2027-01-01\n",
     "line 7: missing key 'expires'"),
    ("waiver expiry as text", "[[waiver]]\nsite='a.cn'\nowner='x'\nreason='y'\nexpires='soon'\n",
     "line 1: 'expires' has the wrong type"),
    ("group matching nothing", "[[group]]\nname='g'\nrequire=['icp_filing']\n", "matches no site"),
    ("TOML syntax", "[defaults\n", "line 1"),
]


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in BAD_RULES], ids=[c[0] for c in BAD_RULES])
def test_bad_rules_file_names_the_line(text: str, message: str) -> None:
    with pytest.raises(RulesError, match="rules.toml") as raised:
        parse_rules(text, CATEGORIES, "rules.toml")
    assert message in str(raised.value)


REGISTER = """number,category,holder,authority,issued,expires,domains,province
京ICP备20018813号,icp_filing,北京示例科技有限公司,北京市通信管理局,2020-05-01,,example.cn *.example.cn,京
京B2-20202418,vats_license,北京示例科技有限公司,北京市通信管理局,2023-01-10,,example.cn;*.example.cn,京
京公网安备11010802012345号,psb_filing,北京示例科技有限公司,海淀分局,2021-03-01,,www.example.cn,
京ICP证030173号,icp_license,北京示例科技有限公司,北京市通信管理局,2003-01-01,2026-12-31,*.example.cn,
沪ICP备13002172号,icp_filing,上海另一家公司,上海市通信管理局,2013-01-01,,other.cn,
沪ICP备13002172号-2,icp_filing,上海别的公司,上海市通信管理局,2013-01-01,,*.other.cn,
"""


def judge_with_register(result: dict[str, Any], as_of: dt.date | None = None) -> tuple[Verdict, Any]:
    register = parse_register(REGISTER, CATEGORIES)
    return RulesJudge(register=register, as_of=as_of)(result), register


REGISTER_CASES = [
    ("registered number on a covered domain", site("www.example.cn", ICP, PSB, VATS), Verdict("compliant")),
    ("number not in the register",
     site("www.example.cn", finding("icp_filing", "京ICP备21000001号-1"), PSB, VATS),
     Verdict("non_compliant", ("icp_filing:unregistered_number", "icp_filing:wrong_number"))),
    ("registered number on a domain it does not cover",
     site("www.unrelated.cn", finding("icp_filing", "沪ICP备13002172号-1")),
     Verdict("non_compliant", ("icp_filing:number_not_for_domain",))),
    ("site should show its registered licence but shows another",
     site("shop.example.cn", ICP, finding("vats_license", "京B2-20219999")),
     Verdict("non_compliant", ("vats_license:unregistered_number", "vats_license:wrong_number"))),
    ("licence-based filing number matches the registered licence",
     site("www.example.cn", ICP, PSB, finding("icp_filing", "京B2-20202418-2")), Verdict("compliant")),
    ("licence within 90 days of expiry is a notice",
     site("api.example.cn", ICP, VATS, finding("icp_license", "京ICP证030173号")),
     Verdict("compliant", (), ("icp_license:licence_expiring",))),
]


@pytest.mark.parametrize(("result", "expected"), [c[1:] for c in REGISTER_CASES], ids=[c[0] for c in REGISTER_CASES])
def test_register_cross_checks(result: dict[str, Any], expected: Verdict) -> None:
    assert judge_with_register(result)[0] == expected


def test_expired_licence_is_a_problem() -> None:
    result = site("api.example.cn", ICP, VATS, finding("icp_license", "京ICP证030173号"))
    verdict, _ = judge_with_register(result, as_of=dt.date(2027, 1, 5))
    assert verdict.problems == ("icp_license:licence_expired",)


def test_register_reports_what_no_site_shows_and_holder_conflicts() -> None:
    _, register = judge_with_register(site("www.example.cn", ICP, PSB, VATS))
    rows = {row["number"]: row for row in register.rows(dt.date(2026, 11, 29))}
    assert rows["京ICP备20018813号"]["shown_on"] == ["www.example.cn"]
    assert rows["京ICP证030173号"]["status"] == ["licence_expiring", "not_displayed"]
    assert rows["沪ICP备13002172号"]["status"] == ["not_displayed", "holder_conflict"]
    assert rows["京B2-20202418"]["expires"] == "2028-01-10"  # five years after issue


def test_register_province_against_the_number() -> None:
    register = parse_register(REGISTER.replace("2020-05-01,,example.cn *.example.cn,京",
                                               "2020-05-01,,example.cn *.example.cn,沪"), CATEGORIES)
    verdict = RulesJudge(register=register)(site("www.example.cn", ICP, PSB, VATS))
    assert verdict.problems == ("province_mismatch:register",)


BAD_REGISTERS = [
    ("missing column", "number,category\nx,icp_filing\n", "line 1: missing column(s) holder"),
    ("bad date", REGISTER.replace("2021-03-01", "2021/03/01"), "line 4: issued '2021/03/01' is not a date"),
    ("unknown category", REGISTER.replace(",uscc_code,", ",x,").replace(",psb_filing,", ",police,"),
     "line 4: unknown category 'police'"),
    ("no domains", REGISTER.replace(",www.example.cn,", ",,"), "line 4: no domains listed"),
]


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in BAD_REGISTERS], ids=[c[0] for c in BAD_REGISTERS])
def test_bad_register_names_the_line(text: str, message: str) -> None:
    with pytest.raises(RegisterError) as raised:
        parse_register(text, CATEGORIES, "register.csv")
    assert message in str(raised.value)
