"""The query parameters an endpoint reads, remembered per query: the same pairs, within a bound."""

from __future__ import annotations

from mockserver.engine.pipeline import READ_QUERIES, READ_QUERY_BYTES
from mockserver.serving.app import create_app


def test_remembered_queries_give_the_same_pairs_and_stay_bounded() -> None:
    endpoint = create_app().state.emulator.apps["butter"].endpoints["/api/phone-numbers"]
    queries = [
        b"status=assigned&page_size=20&cursor=eyJpZCI6MX0.abc",
        b"status=assigned&unknown=1&page_size=5",
        b"st%61tus=assigned&page_size=5",  # an escaped name is the same name
        b"page_size=5&status%5B%5D=assigned",
        b"page_size=" + b"9" * READ_QUERY_BYTES,
    ]
    for _ in range(2):
        for query in queries:
            assert endpoint.read_params(query) == endpoint._read_params(query)
    assert endpoint.read_params(queries[1]) == (b"status=assigned", b"page_size=5")
    assert endpoint.read_params(queries[2]) == (("status", "assigned"), ("page_size", "5"))
    assert queries[-1] not in endpoint._read_queries  # longer than a remembered query may be
    for index in range(3 * READ_QUERIES):
        endpoint.read_params(b"page_size=%d" % index)
        assert len(endpoint._read_queries) <= READ_QUERIES
