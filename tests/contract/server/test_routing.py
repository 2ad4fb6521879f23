"""The OCPI route table's lookup (``server.routing``): the memo answers like the walk."""

from __future__ import annotations


def test_the_router_memo_answers_like_the_walk() -> None:
    from ocpikit.server.routes import ocpi_routes
    from ocpikit.server.routing import MATCH_MEMO_MAX, Match, Router

    router = Router(ocpi_routes())
    cases = [
        ("/ocpi/2.3.0/emsp/sessions/DE/CPO/S1", "PUT"),
        ("/ocpi/2.3.0/emsp/sessions/DE/CPO/S1", "PATCH"),
        ("/ocpi/2.3.0/emsp/sessions/DE/CPO/S1", "POST"),  # 405
        ("/ocpi/2.3.0/emsp/nothing", "GET"),  # 404
        ("/ocpi/versions", "GET"),
    ]
    for path, method in cases * 3:  # the first round fills the memo, the others read it
        assert router.match(path, method) == router.walk(path, method)
    assert [router.match(*case)[0] for case in cases] == [
        Match.FULL,
        Match.FULL,
        Match.PARTIAL,
        Match.NONE,
        Match.FULL,
    ]
    found, route, params = router.match(*cases[0])
    assert found is Match.FULL and route is not None
    params["session_id"] = "changed"  # each caller gets its own parameters
    again, _route, params = router.match(*cases[0])
    assert again is Match.FULL and params["session_id"] == "S1"
    for n in range(MATCH_MEMO_MAX + 10):  # bounded
        router.match(f"/ocpi/2.3.0/emsp/sessions/DE/CPO/X{n}", "PUT")
    assert router.memo_size <= MATCH_MEMO_MAX
