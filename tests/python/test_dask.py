"""bouncekit.dask on a local Dask cluster equals the single-machine run on a
generated history of 10^6 events (acceptance 3)."""

from __future__ import annotations

import pandas as pd
import pytest

import bouncekit
from million import N_EVENTS, million

dd = pytest.importorskip("dask.dataframe", reason="dask is not installed (pip install 'bouncekit[dask]')")
distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed")


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    # dashboard_address=None still starts the scheduler's HTTP server on 8787
    # (and warns, an error here, when another cluster holds it): ":0" takes
    # any free port.
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       memory_limit="3GiB", dashboard_address=":0")
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_small_with_default_scheduler() -> None:
    import bouncekit.dask as bkd
    from bouncekit import generate
    h = generate.history(5000, seed=1)
    events = dd.from_pandas(h, npartitions=4)
    c = bkd.classify(events).compute()
    local = bouncekit.classify(h)
    assert c["category"].tolist() == local["category"].astype(str).tolist()
    r = bkd.analyze_history(bkd.classify(events))
    want = bouncekit.analyze_history(h.assign(bounce_class=local["bounce_class"].astype(str)))
    pd.testing.assert_frame_equal(r.suppressions, want.suppressions)
    pd.testing.assert_frame_equal(r.aggregates, want.aggregates)
    assert r.rows == 5000
    # an explicit order column and another partition count give the same
    r2 = bkd.analyze_history(dd.from_pandas(h.assign(bounce_class=local["bounce_class"].astype(str),
                                                    event_id=range(len(h))), npartitions=3),
                            order="event_id", npartitions=5)
    pd.testing.assert_frame_equal(r2.suppressions, want.suppressions)
    pd.testing.assert_frame_equal(bkd.aggregate(events.assign(bounce_class=bkd.classify(events)["bounce_class"])),
                                  want.aggregates)
    with pytest.raises(KeyError, match="unknown suppression policy"):
        bkd.analyze_history(events, policy="nope")


@pytest.mark.slow
def test_million_events_equal_single_machine(client) -> None:  # type: ignore[no-untyped-def]
    import bouncekit.dask as bkd
    m = million()
    events = dd.read_parquet(str(m["dir"]))
    assert events.npartitions >= 4
    classified = client.persist(bkd.classify(events))  # classified once, kept on the workers
    got = classified[["event_id", "bounce_class", "category", "blame", "retryable", "rule_id"]].compute()
    assert len(got) == N_EVENTS
    want = m["classified"]
    assert got["event_id"].tolist() == want["event_id"].tolist()  # same order
    for c in ("bounce_class", "category", "blame", "rule_id"):
        assert got[c].astype(str).tolist() == want[c].tolist(), c
    assert got["retryable"].tolist() == want["retryable"].tolist()
    r = bkd.analyze_history(classified)
    local = m["local"]
    assert len(local.suppressions) > 1000 and len(local.aggregates) > 1000
    pd.testing.assert_frame_equal(r.suppressions, local.suppressions)
    pd.testing.assert_frame_equal(r.aggregates, local.aggregates)
