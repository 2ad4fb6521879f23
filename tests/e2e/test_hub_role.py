"""ocpikit as a roaming hub, end to end (real processes over loopback; docs/hubs.md "ocpikit as
a hub"): a hub (``roles = ["HUB"]``), CPO-A on 2.1.1, CPO-B on 2.2.1, eMSP-X on 2.3.0 and
eMSP-Y on 2.2.1, all ocpikit, each registered only with the hub.

eMSP-X's tokens reach both CPOs (broadcast, converted to each version); CPO-A authorizes an
eMSP-X token in real time through the hub (2.1.1: the hub finds the eMSP from the token);
eMSP-X starts a session at CPO-B through the hub (``OCPI-to-*``, the response URL rewritten)
and receives the CommandResult; CPO-B's session and CDR reach eMSP-X; CPO-A's 2.1.1 CDR
reaches eMSP-X as a valid 2.3.0 CDR, its ``cdr_token`` filled by the hub from the token; an
unknown receiver is a 4001; the hub lists its parties with HubClientInfo; eMSP-Y pulls the
merged location list of both CPOs through the hub, every location once; the hub counts the
forwards by outcome and lists the losses of CPO-A's CDR (``hub parties``, ``hub losses``); when
CPO-B stops, every other party learns it (OFFLINE) and a command to it is a 4003 until it
returns; restarted with ``[hub] store = false``, the hub keeps its counters, relays without
keeping and merges the CPOs' location lists live.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ocpikit.models import model_for
from ocpikit.protocol.ports import ObjectKey
from ocpikit.server.demo import demo_sessions_and_cdrs, demo_tokens

from ._nodes import Instance

pytestmark = pytest.mark.e2e

CONFIG = """
[outbox]
first_pull = false

[hub]
probe_interval = 1
"""


def admin(node: Instance, method: str, path: str, body: Any = None) -> httpx.Response:
    return httpx.request(
        method,
        f"{node.url}/admin/api/{path}",
        json=body,
        headers={"Authorization": "Bearer e2e-admin"},
        timeout=30,
        trust_env=False,
    )


def waited(what: Any, seconds: float = 30.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        found = what()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def owned(node: Instance, kind: str) -> list[dict[str, Any]]:
    r = admin(node, "GET", f"{kind}?owner=NL-HUB&limit=1000")
    assert r.status_code == 200, r.text
    return [i["object"] for i in r.json()["items"]]


def location(cc: str, pid: str, ident: str) -> dict[str, Any]:
    from ocpikit.server.demo import demo_locations

    loc = next(iter(demo_locations(cc, pid, 1)))
    return {**loc, "id": ident}


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Instance]]:
    nodes: dict[str, Instance] = {}
    specs = {
        "hub": ("NL-HUB:HUB", None),
        "cpo_a": ("NL-CPA:CPO", "2.1.1"),
        "cpo_b": ("NL-CPB:CPO", "2.2.1"),
        "emsp_x": ("NL-EMX:EMSP", "2.3.0"),
        "emsp_y": ("NL-EMY:EMSP", "2.2.1"),
    }
    try:
        for name, (party, versions) in specs.items():
            workdir = tmp_path_factory.mktemp(name)
            node = Instance(
                workdir,
                party,
                f"sqlite:///{workdir / 'ocpikit.db'}",
                versions=versions,
                config=CONFIG,
            )
            node.start()
            nodes[name] = node
        hub = nodes["hub"]
        for name in ("cpo_a", "cpo_b", "emsp_x", "emsp_y"):
            invite = hub.cli("invite")
            assert invite.returncode == 0, invite.stderr
            token = json.loads(invite.stdout)["token"]
            r = nodes[name].cli(
                "register",
                "--versions-url",
                f"{hub.url}/ocpi/versions",
                "--token",
                token,
                "--profile",
                "generic",
            )
            assert r.returncode == 0, r.stdout + r.stderr + hub.log()
        # a 2.1.1 party's credentials carry no role: the hub's operator names it
        r = hub.cli("partners", "set", "NL-CPA", "--switch", "role=CPO")
        assert r.returncode == 0, r.stderr
        yield nodes
    finally:
        for node in nodes.values():
            node.close()


def test_the_hub_serves_every_version_and_lists_its_parties(net: dict[str, Instance]) -> None:
    hub = net["hub"]
    r = hub.cli("hub", "parties", "--json")
    assert r.returncode == 0, r.stderr
    rows = {row["party"]: row for row in json.loads(r.stdout)}
    assert {k: rows[k]["version"] for k in ("NL-CPA", "NL-CPB", "NL-EMX")} == {
        "NL-CPA": "2.1.1",
        "NL-CPB": "2.2.1",
        "NL-EMX": "2.3.0",
    }
    assert all(rows[k]["status"] == "CONNECTED" for k in rows)


def test_cpo_locations_and_emsp_tokens_are_broadcast(net: dict[str, Instance]) -> None:
    for node, cc_pid, ident in (
        (net["cpo_a"], ("NL", "CPA"), "LOCA"),
        (net["cpo_b"], ("NL", "CPB"), "LOCB"),
    ):
        doc = location(*cc_pid, ident)
        r = admin(node, "PUT", f"locations/{cc_pid[0]}/{cc_pid[1]}/{ident}", doc)
        assert r.status_code in (200, 201), r.text
    got = waited(lambda: {o["id"] for o in owned(net["emsp_x"], "locations")} >= {"LOCA", "LOCB"})
    assert got, owned(net["emsp_x"], "locations")
    tokens = demo_tokens("NL", "EMX", 2)
    for token in tokens:
        r = admin(net["emsp_x"], "PUT", f"tokens/NL/EMX/{token['uid']}", token)
        assert r.status_code in (200, 201), r.text
    uids = {t["uid"] for t in tokens}
    for cpo in ("cpo_a", "cpo_b"):
        got = waited(lambda c=cpo: {t["uid"] for t in owned(net[c], "tokens")} >= uids)
        assert got, (cpo, owned(net[cpo], "tokens"), net["hub"].log())


def test_emsp_y_pulls_the_merged_location_list_of_both_cpos(net: dict[str, Instance]) -> None:
    """A GET of the list without OCPI-to-* (open routing): both CPOs' locations, each once, in
    one paginated list (runs after the broadcast test, which made them)."""
    r = net["emsp_y"].cli("pull", "NL-HUB", "locations", "--full", "--limit", "1", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    [report] = json.loads(r.stdout)
    assert report["total"] == 2 and report["pages"] == 2, report
    held = {(o["party_id"], o["id"]) for o in owned(net["emsp_y"], "locations")}
    assert held == {("CPA", "LOCA"), ("CPB", "LOCB")}


def test_cpo_a_authorizes_an_emsp_x_token_through_the_hub(net: dict[str, Instance]) -> None:
    token = {**demo_tokens("NL", "EMX", 3)[2], "whitelist": "NEVER"}
    r = admin(net["emsp_x"], "PUT", f"tokens/NL/EMX/{token['uid']}", token)
    assert r.status_code in (200, 201), r.text
    waited(lambda: token["uid"] in {t["uid"] for t in owned(net["cpo_a"], "tokens")})
    r = admin(net["cpo_a"], "POST", "authorize", {"uid": token["uid"], "emsp": "NL-EMX"})
    assert r.status_code == 200, r.text
    info = r.json()
    assert info["source"] == "realtime", (info, net["hub"].log())
    assert info["allowed"] in ("ALLOWED", "NOT_ALLOWED", "BLOCKED", "EXPIRED", "NO_CREDIT")


def test_emsp_x_starts_a_session_at_cpo_b_through_the_hub(net: dict[str, Instance]) -> None:
    emsp, cpo_b = net["emsp_x"], net["cpo_b"]
    token = demo_tokens("NL", "EMX", 1)[0]
    waited(lambda: "NL-CPB" in emsp.cli("parties", "--json").stdout)
    r = admin(
        emsp,
        "POST",
        "parties/NL-CPB/commands/START_SESSION",
        {"token": token, "location_id": "LOCB"},
    )
    assert r.status_code == 201, r.text + net["hub"].log()
    sent = r.json()
    assert sent["response"]["result"] == "ACCEPTED", sent

    def received() -> list[dict[str, Any]]:
        r = admin(cpo_b, "GET", "commands?direction=received")
        return [c for c in r.json() if c["command"] == "START_SESSION"]

    cmds = waited(received)
    assert cmds, cpo_b.log()
    assert "/hub/commands/START_SESSION/" in cmds[-1]["response_url"]
    r = admin(cpo_b, "POST", f"commands/{cmds[-1]['id']}/result", {"result": "ACCEPTED"})
    assert r.status_code == 200, r.text

    def result() -> dict[str, Any] | None:
        r = admin(emsp, "GET", f"commands/sent/{sent['id']}")
        rec: dict[str, Any] = r.json()
        return rec if rec.get("result") else None

    done = waited(result)
    assert done and done["result"]["result"] == "ACCEPTED", (done, net["hub"].log())


def test_sessions_and_cdrs_reach_the_emsp_of_the_token(net: dict[str, Instance]) -> None:
    emsp = net["emsp_x"]
    token = demo_tokens("NL", "EMX", 1)[0]
    to_emx = {
        "country_code": "NL",
        "party_id": "EMX",
        "uid": token["uid"],
        "type": token["type"],
        "contract_id": token["contract_id"],
    }
    sessions, cdrs = demo_sessions_and_cdrs("NL", "CPB", 1)
    session = {**sessions[0], "cdr_token": to_emx, "location_id": "LOCB"}
    cdr = {**cdrs[0], "cdr_token": to_emx, "session_id": session["id"]}
    cdr["cdr_location"] = {**cdr["cdr_location"], "id": "LOCB"}
    for kind, doc in (("sessions", session), ("cdrs", cdr)):
        r = admin(net["cpo_b"], "PUT", f"{kind}/NL/CPB/{doc['id']}", doc)
        assert r.status_code in (200, 201), r.text
    # CPO-A (2.1.1): its CDR names the token by auth_id only
    _, cdrs_a = demo_sessions_and_cdrs("NL", "CPA", 1)
    cdr_a = {**cdrs_a[0], "id": "CDRA1", "cdr_token": {**to_emx, "country_code": "NL"}}
    cdr_a["cdr_location"] = {**cdr_a["cdr_location"], "id": "LOCA"}
    r = admin(net["cpo_a"], "PUT", f"cdrs/NL/CPA/{cdr_a['id']}", cdr_a)
    assert r.status_code in (200, 201), r.text
    got = waited(lambda: len(owned(emsp, "cdrs")) >= 2 and owned(emsp, "cdrs"))
    assert got, (owned(emsp, "cdrs"), net["hub"].log())
    by_party = {(c["country_code"], c["party_id"]): c for c in got}
    assert set(by_party) == {("NL", "CPB"), ("NL", "CPA")}
    from_a = by_party["NL", "CPA"]
    model_for("2.3.0", "CDR").model_validate(from_a)
    assert (from_a["cdr_token"]["country_code"], from_a["cdr_token"]["party_id"]) == ("NL", "EMX")
    assert [s["id"] for s in owned(emsp, "sessions")] == [session["id"]]


def test_an_unknown_receiver_is_a_4001(net: dict[str, Instance]) -> None:
    emsp = net["emsp_x"]
    r = admin(
        emsp,
        "POST",
        "partners/NL-HUB/commands/START_SESSION",
        {"token": demo_tokens("NL", "EMX", 1)[0], "location_id": "X"},
    )
    # sent to the hub itself (no OCPI-to-* party): the hub finds no CPO holding location X
    assert r.status_code == 201, r.text
    assert "UnknownReceiver" in r.json()["response"]["error"], r.text


def test_the_hub_counts_forwards_and_lists_the_losses_of_cpo_a_cdr(
    net: dict[str, Instance],
) -> None:
    """After the flows above: CPO-A's 2.1.1 CDR lost what 2.1.1 cannot say (its exchange in
    the hub's log names it, ``hub losses`` sums it up for CPO-A's connection); the forwarded
    command and the 4001 are counted on their connections (``hub parties``, the API)."""
    hub = net["hub"]

    def cdr_losses() -> list[dict[str, Any]]:
        r = hub.cli("hub", "losses", "--json")
        assert r.returncode == 0, r.stderr
        return [x for x in json.loads(r.stdout) if (x["partner"], x["object"]) == ("NL-CPA", "CDR")]

    rows = waited(cdr_losses)
    assert any(x["field"] == "cdr_token" and x["from"] == "2.1.1" for x in rows), rows
    text = hub.cli("hub", "losses").stdout
    assert "NL-CPA" in text and "cdr_token" in text, text
    api = admin(hub, "GET", "hub/losses")
    assert api.status_code == 200 and any(x["partner"] == "NL-CPA" for x in api.json())
    logged = hub.run(lambda s: s.exchanges.recent(limit=500, partner_id="NL-CPA"))
    cdr_posts = [e for e in logged if e.method == "POST" and "/hub/cdrs" in e.url]
    assert cdr_posts and b"lost 2.1.1 to 2.3.0" in (cdr_posts[0].response_body or b"")

    def forwarded() -> dict[str, Any] | None:
        r = hub.cli("hub", "parties", "--json")
        got = {row["party"]: row["forwarded"] for row in json.loads(r.stdout)}
        ok = got["NL-EMX"]["sent"]["delivered"] >= 1 and got["NL-EMX"]["sent"]["4001"] >= 1
        return got if ok and got["NL-CPB"]["received"]["delivered"] >= 1 else None

    counts = waited(forwarded)
    assert counts, hub.cli("hub", "parties", "--json").stdout
    r = admin(hub, "GET", "hub/parties")
    api_rows = {row["party"]: row["forwarded"] for row in r.json()}
    assert api_rows["NL-EMX"]["sent"]["delivered"] >= counts["NL-EMX"]["sent"]["delivered"]
    assert "SENT OK/FAILED" in hub.cli("hub", "parties").stdout


def test_every_party_learns_the_others_through_hub_client_info(net: dict[str, Instance]) -> None:
    def statuses(node: Instance) -> dict[str, str]:
        r = admin(node, "GET", "hubclientinfo")
        assert r.status_code == 200, r.text
        return {f"{c['country_code']}-{c['party_id']}": c["status"] for c in r.json()}

    for name, others in (("emsp_x", {"NL-CPA", "NL-CPB"}), ("cpo_b", {"NL-CPA", "NL-EMX"})):
        got = waited(lambda n=name, o=others: set(statuses(net[n])) >= o and statuses(net[n]))
        assert got and all(got[p] == "CONNECTED" for p in others), (name, got)
    r = net["hub"].cli("outbox", "dead")
    assert "no dead letters" in r.stdout, r.stdout


def test_a_party_that_stops_goes_offline_everywhere_and_gets_4003_until_it_returns(
    net: dict[str, Instance],
) -> None:
    """Runs last: it stops CPO-B. The hub's probe finds it gone; every other party learns it
    through ClientInfo (OFFLINE), and a command to it is a 4003 at once; back, CONNECTED."""
    emsp, cpo_b = net["emsp_x"], net["cpo_b"]
    token = demo_tokens("NL", "EMX", 1)[0]

    def status_of(party: str) -> str | None:
        r = admin(emsp, "GET", "hubclientinfo")
        found = [c["status"] for c in r.json() if f"{c['country_code']}-{c['party_id']}" == party]
        return found[0] if found else None

    cpo_b.stop()
    try:
        assert waited(lambda: status_of("NL-CPB") == "OFFLINE"), status_of("NL-CPB")
        r = admin(
            emsp,
            "POST",
            "parties/NL-CPB/commands/START_SESSION",
            {"token": token, "location_id": "LOCB"},
        )
        assert r.status_code == 201, r.text
        record = r.json()
        assert record["state"] == "SEND_FAILED", record
        assert "not reachable" in json.dumps(record), record
    finally:
        cpo_b.start()
    assert waited(lambda: status_of("NL-CPB") == "CONNECTED"), status_of("NL-CPB")


def test_without_a_store_the_hub_merges_the_cpos_lists_live(net: dict[str, Instance]) -> None:
    """Runs after CPO-B came back: the hub restarts with ``[hub] store = false``. Its counters
    survived the restart; a new Location of CPO-B reaches eMSP-X without being kept at the
    hub; eMSP-Y's pull of the merged list asks both CPOs live, every location once."""
    hub = net["hub"]
    before = {row["party"]: row["forwarded"] for row in admin(hub, "GET", "hub/parties").json()}
    hub.stop()
    (hub.workdir / "ocpikit.toml").write_text(CONFIG + "store = false\n")
    hub.start()
    after = {row["party"]: row["forwarded"] for row in admin(hub, "GET", "hub/parties").json()}
    assert after["NL-EMX"]["sent"] == before["NL-EMX"]["sent"]  # durable
    doc = location("NL", "CPB", "LOCB2")
    r = admin(net["cpo_b"], "PUT", "locations/NL/CPB/LOCB2", doc)
    assert r.status_code in (200, 201), r.text
    got = waited(lambda: "LOCB2" in {o["id"] for o in owned(net["emsp_x"], "locations")})
    assert got, hub.log()
    key = ObjectKey("Location", "NL", "CPB", "LOCB2")
    assert hub.run(lambda s: s.objects.get(key)) is None
    r = net["emsp_y"].cli("pull", "NL-HUB", "locations", "--full", "--limit", "2", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    [report] = json.loads(r.stdout)
    assert report["total"] == 3 and report["pages"] == 2, (report, hub.log())
    held = {(o["party_id"], o["id"]) for o in owned(net["emsp_y"], "locations")}
    assert held >= {("CPA", "LOCA"), ("CPB", "LOCB"), ("CPB", "LOCB2")}
