"""Step 1 of aggregation (rows to unit × coarse period) on a Dask DataFrame.

Runs on whatever scheduler is active: a ``distributed.Client`` sends the work to a
cluster, otherwise Dask's threads do it. The result (one row per unit and period)
and the rows with a missing value come back as pandas frames; step 2 is pandas'.
Row order, which names the periods a sum misses in time order, is the frame's
index where that is a number (as :func:`dask.dataframe.from_pandas` keeps it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import MISSING_KEY, Plan, gaps_from_rows, is_dask

# rows per partition of a pandas frame handed to Dask
PARTITION_ROWS = 250_000


def over_time(p: Plan, frame) -> tuple[pd.DataFrame, pd.DataFrame]:
    import dask
    import dask.dataframe as dd

    if not is_dask(frame):
        frame = dd.from_pandas(frame, npartitions=max(1, len(frame) // PARTITION_ROWS + 1), sort=False)
    need = [*p.finest, "period", "period_kind", "is_total", *p.counts]
    ddf = frame[need]
    # a missing key (a unit without a township) would match nothing in the joins below
    ddf = ddf.assign(**{k: ddf[k].fillna(MISSING_KEY) for k in p.finest})
    if not p.include_totals:
        ddf = ddf[~ddf["is_total"]]
    if pd.api.types.is_integer_dtype(ddf.index.dtype):
        ddf = ddf.assign(_row=ddf.index)
    else:
        ddf = ddf.assign(_row=0)
    kinds = p.kinds[["period", "period_kind", "_rank", "_coarse"]].assign(
        _exp=p.kinds["exposure_years"].fillna(1.0).astype(float))
    ddf = ddf.merge(kinds, on=["period", "period_kind"], how="inner")
    ddf = ddf.rename(columns={"period": "_printed_period"}).rename(columns={"_coarse": "period"})
    gkeys = p.finest + ["period"]
    g = ddf.groupby(gkeys, dropna=False, sort=False)
    spec = {"_exp": "sum", "_rank": ["max", "count"]}
    for c in p.sums:
        spec[c] = ["sum", "count"]
    for c in p.means:
        spec[c] = "mean"
    summary = g.agg(spec)
    lazy = [summary]
    if p.lasts:
        # the period's end: the row of the group's latest period (a unit has one row a period)
        latest = g["_rank"].max().rename("_latest").reset_index()
        ends = ddf.merge(latest, on=gkeys, how="inner")
        ends = ends[ends["_rank"] == ends["_latest"]][[*gkeys, *p.lasts]]
        lazy.append(ends)
    if p.sums:
        missing = ddf[p.sums].isna().any(axis=1)
        lazy.append(ddf[missing][[*gkeys, "_printed_period", "_rank", "_row", *p.sums]])
    done = list(dask.compute(*lazy))
    summary = done.pop(0)
    summary.columns = ["_".join(c) for c in summary.columns]
    parts = summary["_rank_count"]
    out = pd.DataFrame(index=summary.index)
    for c in p.counts:
        if c in p.sums:
            # a sum with a missing part is missing (pandas' and DuckDB's rule)
            total = summary[f"{c}_sum"].where(summary[f"{c}_count"] == parts)
            out[c] = total.astype(float)
        elif c in p.means:
            out[c] = summary[f"{c}_mean"].astype(float)
    if p.lasts:
        ends = done.pop(0).set_index(gkeys)
        for c in p.lasts:
            out[c] = ends[c].reindex(out.index).astype(float)
    out["exposure_years"] = summary["_exp_sum"].astype(float)
    out = out[[*p.counts, "exposure_years"]].reset_index()
    for k in p.finest:
        out[k] = out[k].where(out[k] != MISSING_KEY, np.nan)
    gaps = pd.DataFrame()
    if p.sums:
        bad = done.pop(0).sort_values(["_rank", "_row"], kind="stable")
        if len(bad):
            flags = bad[p.sums].isna()
            bad = pd.concat([bad[[*gkeys, "_printed_period"]], flags], axis=1)
            gaps = gaps_from_rows(bad, gkeys, p.sums, "_printed_period", "periods", parts, several_only=True)
    return out, gaps
