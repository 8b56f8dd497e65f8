"""Synthetic monthly tables of a township's villages, written as real tables are.

:func:`township` draws every count of ``fields.yaml`` for villages × months from
plausible rates with a fixed seed and, unless ``plant=False``, plants the
problems listed in :data:`PLANTED` (documented in ``data/README.md``). The
bundled sample ``data/sample/township.csv`` is ``township(seed=20240601)``; the
benchmarks use larger draws.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

VILLAGES = ["上河村", "下河村", "东岭村", "西岭村", "南湾村", "北湾村", "石桥村", "柳溪村", "桃源村",
            "杏坪村", "青龙村", "白马村", "金山村", "银坑村", "枫林村", "竹园村", "梅岭村", "兰田村",
            "松坡村", "长塘村", "新丰村", "永安村", "和平村", "太平村", "大坪村", "小溪村"]

ORDERS = ("1", "2", "3", "4", "5plus")
_ORDER_ZH = dict(zip(ORDERS, ("第一孩", "第二孩", "第三孩", "第四孩", "第五孩及以上")))

# Chinese headers as work-report tables print them, in the order of the table; birth
# orders as census tables print them (第一孩-小计, 第一孩-男, 第一孩-女).
HEADERS = {
    "county": "县", "township": "乡镇", "village": "村", "period": "月份",
    "population": "总人口", "births": "出生人数", "births_male": "男", "births_female": "女",
    "births_policy": "政策内出生",
    **{f"births_order{k}{suffix}": f"{_ORDER_ZH[k]}-{part}" for k in ORDERS
       for suffix, part in (("", "小计"), ("_male", "男"), ("_female", "女"))},
    "births_order2plus": "二孩及以上出生",
    "births_order2plus_policy": "二孩及以上政策内出生", "deaths": "死亡人数",
    "contraception_due": "综合避孕应落实", "contraception_done": "综合避孕已落实",
    "sterilisation": "结扎", "iud": "放环", "implant": "皮埋", "pills_condoms": "药具",
    "long_acting_due": "长效应落实", "long_acting_done": "长效已落实",
    "checks_due": "孕环检应检", "checks_done": "孕环检已检",
    "pregnancies": "怀孕人数", "pregnancies_early": "早孕发现", "births_no_pregnancy_record": "无孕情出生",
    "fee_cases_due": "社会抚养费应征收例数", "fee_cases_collected": "社会抚养费已征收例数",
    "fee_amount_due": "社会抚养费应征金额", "fee_amount_collected": "社会抚养费已征金额",
    "migrants": "流动人口", "migrants_registered": "已登记", "migrants_verified": "已验证",
    "migrants_certified": "已发证", "info_checked": "信息核查数", "info_correct": "信息准确数",
    "task": "任务数", "task_done": "完成数", "births_health": "卫生部门出生数",
    "births_police": "公安出生登记数", "reported_policy_compliant_birth_rate": "计划生育率",
}

# What the sample's problems are. The misprinted rate needs a village-month whose true
# rate is below 100; which one depends on the draw, and :func:`township` fills it in
# (see its ``attrs["planted"]``).
PLANTED = [
    ("石桥村", "2019-05", "births_female", "parts_do_not_add_up", "女 typed one higher: 男 + 女 ≠ 出生人数"),
    ("柳溪村", "2020-03", "births_policy", "numerator_exceeds_denominator", "政策内出生 two more than 出生人数"),
    ("桃源村", "2019-08", "deaths", "missing", "死亡人数 printed as — (missing)"),
    ("杏坪村", "2020-06", "sterilisation", "parts_do_not_add_up", "结扎 typed 10 higher: methods do not add up to 综合避孕已落实"),
    (None, None, "reported_policy_compliant_birth_rate", "reported_rate_disagrees", "计划生育率 printed as 100.00% although the counts give less"),
    ("白马村", "all", "births_male", "srb_high", "boys drawn at a sex ratio of 250 at 2nd and later births (sex selection)"),
    ("南湾村", "all", "births_health", "sources_disagree", "health system counts about 70% more births than the family-planning office (concealment)"),
    ("合计", "2020-12", "births", "total_differs_from_units", "total row's 出生人数 10 higher than the sum of its villages"),
]


def township(seed: int = 20240601, villages: list[str] | None = None, months: int = 24,
             start_year: int = 2019, plant: bool = True, populations: dict[str, int] | None = None) -> pd.DataFrame:
    """Village × month counts with canonical column names (and a 合计 row per month)."""
    names = villages or VILLAGES
    periods = [f"{start_year + m // 12}-{m % 12 + 1:02d}" for m in range(months)]
    rows = []
    for v_i, name in enumerate(names):
        # one stream per village: planting in one village leaves the others' draws alone
        rng = np.random.default_rng([seed, v_i])
        pop0 = int(rng.integers(600, 3500))
        if populations and name in populations:  # a village as large as a small town
            pop0 = populations[name]
        # share of boys by birth order (1st, 2nd, 3rd, 4th, 5th+) and the share of
        # births that are 2nd or later
        p_male = [1.063 / 2.063] * 5
        later = 0.45
        if plant and name == "白马村":
            # sex selection at 2nd and later births, in a village large enough that
            # two years of births show it beyond chance
            pop0, later = 6000, 0.6
            p_male = [1.063 / 2.063] + [2.5 / 3.5] * 4
        due0 = int(pop0 * rng.uniform(0.16, 0.2))
        mig0 = int(pop0 * rng.uniform(0.04, 0.12))
        compliance2 = rng.uniform(0.78, 0.95)
        conceal = plant and name == "南湾村"
        for m, period in enumerate(periods):
            pop = pop0 + int(m * rng.uniform(-1, 2))
            births = int(rng.poisson(pop * 12.5 / 1000 / 12))
            order2 = int(rng.binomial(births, later))
            by_order = [births - order2, *rng.multinomial(order2, [0.82, 0.14, 0.03, 0.01])]
            boys_by_order = [int(rng.binomial(b, p)) for b, p in zip(by_order, p_male)]
            boys = sum(boys_by_order)
            pol2 = int(rng.binomial(order2, compliance2))
            pol1 = int(rng.binomial(births - order2, 0.99))
            due = due0 + int(m * rng.uniform(-0.5, 1))
            done = int(rng.binomial(due, rng.uniform(0.86, 0.95)))
            ster = int(rng.binomial(done, 0.35))
            iud = int(rng.binomial(done - ster, 0.6))
            implant = int(rng.binomial(done - ster - iud, 0.08))
            checks_due = int(due * rng.uniform(0.2, 0.3))
            preg = births + int(rng.poisson(0.6))
            out_of_policy = births - pol1 - pol2
            fee_due = out_of_policy
            fee_amount_due = float(sum(int(rng.integers(80, 200)) * 100 for _ in range(fee_due)))
            mig = mig0 + int(m * rng.uniform(-0.3, 0.6))
            task = max(1, int(pop / 250))
            rows.append({
                "county": "临江县", "township": "青山镇", "village": name, "period": period,
                "population": pop, "births": births, "births_male": boys, "births_female": births - boys,
                "births_policy": pol1 + pol2,
                **{f"births_order{k}": int(b) for k, b in zip(ORDERS, by_order)},
                **{f"births_order{k}_male": m for k, m in zip(ORDERS, boys_by_order)},
                **{f"births_order{k}_female": int(b) - m for k, b, m in zip(ORDERS, by_order, boys_by_order)},
                "births_order2plus": order2, "births_order2plus_policy": pol2,
                "deaths": int(rng.poisson(pop * 6.5 / 1000 / 12)),
                "contraception_due": due, "contraception_done": done, "sterilisation": ster, "iud": iud,
                "implant": implant, "pills_condoms": done - ster - iud - implant,
                "long_acting_due": due, "long_acting_done": ster + iud + implant,
                "checks_due": checks_due, "checks_done": int(rng.binomial(checks_due, rng.uniform(0.8, 0.97))),
                "pregnancies": preg, "pregnancies_early": int(rng.binomial(preg, 0.82)),
                "births_no_pregnancy_record": int(rng.binomial(births, 0.04)),
                "fee_cases_due": fee_due, "fee_cases_collected": int(rng.binomial(fee_due, 0.7)),
                "fee_amount_due": fee_amount_due,
                "fee_amount_collected": float(round(fee_amount_due * rng.uniform(0.4, 0.9), -2)),
                "migrants": mig, "migrants_registered": int(rng.binomial(mig, 0.95)),
                "migrants_verified": int(rng.binomial(mig, 0.85)), "migrants_certified": int(rng.binomial(mig, 0.9)),
                "info_checked": 20, "info_correct": int(rng.binomial(20, 0.96)),
                "task": task, "task_done": int(rng.binomial(task, 0.9)) + int(rng.poisson(0.3)),
                # concealment in 南湾村: the family-planning office misses about 40%
                # of the births that the health system sees
                "births_health": births + int(rng.poisson(0.7 * births if conceal else 0.03)),
                "births_police": births + int(rng.poisson(0.1)) - int(rng.binomial(births, 0.02)),
            })
    frame = pd.DataFrame(rows)
    # The office that adds up the printed table works from the true figures, so a
    # figure mistyped in a village row leaves the total row right.
    totals = _totals(frame)
    if plant:
        frame = _plant(frame)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = frame["births_policy"] / frame["births"] * 100
    frame["reported_policy_compliant_birth_rate"] = rate.round(2).where(frame["births"] > 0)
    planted = []
    if plant:
        taken = {u for u, *_ in PLANTED}
        cand = frame[~frame["village"].isin(taken) & (frame["period"] >= f"{start_year + 1}")
                     & (frame["births_policy"] < frame["births"])]
        where = cand.index[0]
        frame.loc[where, "reported_policy_compliant_birth_rate"] = 100.0
        planted = [{"unit": u or frame.at[where, "village"], "period": p or frame.at[where, "period"],
                    "column": c, "kind": k, "description": d} for u, p, c, k, d in PLANTED]
    if plant:
        at = totals["period"] == "2020-12"
        totals.loc[at, "births"] += 10
    frame = pd.concat([frame, totals], ignore_index=True)
    frame = frame.sort_values(["period"], kind="stable").reset_index(drop=True)
    frame.attrs["planted"] = planted
    return frame


def _plant(frame: pd.DataFrame) -> pd.DataFrame:
    def at(village, period):
        return (frame["village"] == village) & (frame["period"] == period)

    frame.loc[at("石桥村", "2019-05"), "births_female"] += 1
    frame.loc[at("柳溪村", "2020-03"), "births_policy"] = frame.loc[at("柳溪村", "2020-03"), "births"] + 2
    frame["deaths"] = frame["deaths"].astype(float)
    frame.loc[at("桃源村", "2019-08"), "deaths"] = np.nan
    frame.loc[at("杏坪村", "2020-06"), "sterilisation"] += 10
    return frame


def _totals(frame: pd.DataFrame) -> pd.DataFrame:
    counts = [c for c in frame.columns if c not in ("county", "township", "village", "period", "reported_policy_compliant_birth_rate")]
    g = frame.groupby("period", sort=False)[counts].sum(min_count=1).reset_index()
    g["county"], g["township"], g["village"] = "临江县", "青山镇", "合计"
    return g


def _printed_count(x) -> str:
    if isinstance(x, str):  # a cell already spoilt as printed (7S)
        return x
    return "—" if pd.isna(x) else (f"{x:,.0f}" if x >= 10000 else f"{x:.0f}")


def printed(frame: pd.DataFrame) -> pd.DataFrame:
    """The same table as a work report prints it: Chinese headers, periods as
    2019年1月, thousands separators on large figures, dashes for missing."""
    out = pd.DataFrame(index=frame.index)
    for col, header in HEADERS.items():
        if col not in frame:
            continue
        s = frame[col]
        if col == "period":
            out[header] = s.map(lambda p: f"{int(p[:4])}年{int(p[5:7])}月")
        elif col in ("county", "township", "village"):
            out[header] = s
        elif col == "reported_policy_compliant_birth_rate":
            out[header] = s.map(lambda x: "—" if pd.isna(x) else f"{x:.2f}%")
        else:
            out[header] = s.map(_printed_count)
    return out


# ----------------------------------------------------------------------------- planted errors

# Each kind of error the believability checks look for, the check that should find
# it, and what is done to a clean table to plant it. Kinds marked "unit" spoil all
# periods of a unit, "period" all units of a period, "table" the whole table.
KINDS = {
    "sex_parts": ("parts_do_not_add_up", "cell", "女 typed 1–3 higher, so 男 + 女 ≠ 出生人数"),
    "method_parts": ("parts_do_not_add_up", "cell", "放环 typed 1–3 higher, so the methods miss 综合避孕已落实"),
    "numerator_above": ("numerator_exceeds_denominator", "cell", "政策内出生 1–3 more than 出生人数"),
    "rate_misprint": ("reported_rate_disagrees", "cell", "计划生育率 printed 0.5–5 points off its counts"),
    "decimal_lost": ("decimal_point_lost", "cell", "计划生育率 printed without its decimal point (×100)"),
    "permille_for_percent": ("scale_slip", "cell", "计划生育率 printed a tenth of its value (‰ for %)"),
    "digit_typo": ("digit_typo", "cell", "结扎 typed 100–900 higher (one digit's place)"),
    "total_row": ("total_differs_from_units", "cell", "合计 row's 死亡人数 1–9 higher than its units"),
    "unreadable": ("cell_not_number", "cell", "死亡人数 printed with a letter (7S)"),
    "time_jump": ("time_jump", "cell", "死亡人数 five times its usual plus 15"),
    "concealment": ("sources_disagree", "unit", "the family-planning office misses 40% of the births the health system counts"),
    "sex_selection": ("srb_outlier", "unit", "boys born at a sex ratio of 160"),
    "pasted_table": ("table_pasted", "period", "死亡人数 of one period replaced by 流动人口 (another table)"),
    "pile_up": ("pile_up_at_target", "table", "units up to 8 points short of 计划生育率 88% report exactly enough to meet it"),
    "digit_preference": ("last_digits_uneven", "table", "孕环检已检 of 100 or more rounded down to end in 0 or 5 in a third of the rows"),
}


def with_errors(units: int = 300, months: int = 24, seed: int = 1, kinds: list[str] | None = None,
                per_kind: int = 10, plant: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A township-style table of ``units`` villages × ``months`` with errors of every
    kind in :data:`KINDS` planted (``per_kind`` cells of each cell kind, one unit per
    unit kind, one period per period kind, and the table kinds), written as a work
    report prints it; and the truth: one row per planted error (unit, period, kind,
    check). With ``plant=False`` the same table, clean."""
    kinds = list(KINDS) if kinds is None else kinds
    names = [f"村{i:04d}" for i in range(units)]
    rng = np.random.default_rng([seed, 999])
    untouched_units = list(rng.permutation(names))
    # sex selection shows beyond chance only on enough births: its village is drawn as
    # large as a small town (about 940 births in 24 months), in the clean table as well.
    # At a ratio of 160 the whole-span test then finds it with a power of about 0.99
    # among 300 villages (benchmarks/bench_recall.py computes it); at half that size the
    # power is about 0.7, the limit stated in benchmarks/RESULTS.md
    large = {untouched_units[1]: 40000} if "sex_selection" in kinds else {}
    frame = township(seed=seed, villages=names, months=months, plant=False, populations=large)
    periods = sorted(frame["period"].unique())
    truth = []
    if plant:
        frame["deaths"] = frame["deaths"].astype(object)
        taken: set = set()

        def pick(where):
            # distinct unit-periods, each spoilt once, away from the units kept for unit kinds
            pool = [i for i in where if i not in taken and frame.at[i, "village"] not in reserved]
            chosen = rng.choice(pool, size=min(per_kind, len(pool)), replace=False)
            for i in chosen:
                # neighbouring periods of the unit stay clean, so a jump is not hidden by another
                same = frame.index[(frame["village"] == frame.at[i, "village"])
                                   & (frame["period"].isin(_around(periods, frame.at[i, "period"])))]
                taken.update(same)
            return chosen

        reserved = set(untouched_units[:4])
        pasted = periods[len(periods) // 2]
        if "pasted_table" in kinds:
            # the pasted period and the next (whose jump back is the pasted one's doing) stay otherwise clean
            taken.update(frame.index[frame["period"].isin(_around(periods, pasted)[1:])])
        unit_kinds = [k for k in kinds if KINDS[k][1] == "unit"]
        unit_of = {"concealment": untouched_units[0], "sex_selection": untouched_units[1]}
        for k in unit_kinds:
            unit = unit_of[k]
            rows = frame.index[frame["village"] == unit]
            if k == "concealment":
                frame.loc[rows, "births_health"] = (frame.loc[rows, "births"] / 0.6).round()
            elif k == "sex_selection":
                total = frame.loc[rows, "births"].to_numpy()
                boys = rng.binomial(total, 1.6 / 2.6)
                frame.loc[rows, "births_male"] = boys
                frame.loc[rows, "births_female"] = total - boys
                _orders_follow(frame, rows)
            truth.append({"unit": unit, "period": "all", "kind": k})
        for k in [k for k in kinds if KINDS[k][1] == "cell"]:
            if k == "total_row":
                where = frame.index[frame["village"] == "合计"]
                for i in rng.choice(where, size=min(per_kind, len(where)), replace=False):
                    frame.at[i, "deaths"] = frame.at[i, "deaths"] + int(rng.integers(1, 10))
                    truth.append({"unit": "合计", "period": frame.at[i, "period"], "kind": k})
                continue
            need = {"numerator_above": frame["births"] > 0,
                    "rate_misprint": frame["births"] >= 5,
                    "decimal_lost": frame["births_policy"] > 0,
                    "permille_for_percent": (frame["births"] > 0) & (frame["births_policy"] > 0),
                    }.get(k, pd.Series(True, index=frame.index))
            where = frame.index[(frame["village"] != "合计") & need]
            if k == "time_jump":  # a jump needs a period before it
                where = where[frame.loc[where, "period"] != periods[0]]
            for i in pick(where):
                _plant_one(frame, i, k, rng)
                truth.append({"unit": frame.at[i, "village"], "period": frame.at[i, "period"], "kind": k})
        if "pasted_table" in kinds:
            rows = frame.index[(frame["period"] == pasted) & (frame["village"] != "合计")]
            frame.loc[rows, "deaths"] = frame.loc[rows, "migrants"]
            truth.append({"unit": "", "period": pasted, "kind": "pasted_table"})
        if "pile_up" in kinds:
            _pile_up(frame, rng, taken)
            truth.append({"unit": "", "period": "year", "kind": "pile_up"})
        if "digit_preference" in kinds:
            truth.append({"unit": "", "period": "all", "kind": "digit_preference"})
            _digit_preference(frame, rng)
    truth = pd.DataFrame(truth, columns=["unit", "period", "kind"])
    truth["check"] = truth["kind"].map(lambda k: KINDS[k][0])
    return frame, truth


def _around(periods: list[str], p: str) -> list[str]:
    i = periods.index(p)
    return periods[max(0, i - 1): i + 2]


def _orders_follow(frame: pd.DataFrame, rows) -> None:
    """Boys and girls by birth order redrawn to add up to the new boys and girls."""
    for i in rows:
        boys = int(frame.at[i, "births_male"])
        sizes = [int(frame.at[i, f"births_order{k}"]) for k in ORDERS]
        left = boys
        for k, size in zip(ORDERS, sizes):
            b = min(size, left)
            frame.at[i, f"births_order{k}_male"] = b
            frame.at[i, f"births_order{k}_female"] = size - b
            left -= b


def _plant_one(frame: pd.DataFrame, i, kind: str, rng) -> None:
    rate = "reported_policy_compliant_birth_rate"
    if kind == "sex_parts":
        frame.at[i, "births_female"] += int(rng.integers(1, 4))
    elif kind == "method_parts":
        frame.at[i, "iud"] += int(rng.integers(1, 4))
    elif kind == "numerator_above":
        frame.at[i, "births_policy"] = frame.at[i, "births"] + int(rng.integers(1, 4))
        frame.at[i, rate] = np.nan  # the office printed no rate above 100%
    elif kind == "rate_misprint":
        off = rng.uniform(0.5, 5)
        up = frame.at[i, rate] + off <= 100 and rng.random() < 0.5
        frame.at[i, rate] = round(frame.at[i, rate] + (off if up else -off), 2)
    elif kind == "decimal_lost":
        frame.at[i, rate] = round(frame.at[i, rate] * 100)
    elif kind == "permille_for_percent":
        frame.at[i, rate] = round(frame.at[i, rate] / 10, 2)
    elif kind == "digit_typo":
        frame.at[i, "sterilisation"] += int(rng.integers(1, 10)) * 100
    elif kind == "unreadable":
        frame.at[i, "deaths"] = f"{frame.at[i, 'deaths']:.0f}S"
    elif kind == "time_jump":
        frame.at[i, "deaths"] = float(frame.at[i, "deaths"]) * 5 + 15


def _pile_up(frame: pd.DataFrame, rng, taken: set, target: float = 88.0, share: float = 0.8) -> None:
    """Villages whose yearly rate is up to 8 points short of the target move just
    enough out-of-policy births into policy to meet it (the months are left as they
    are but for the last one with births, which carries the change)."""
    rate = "reported_policy_compliant_birth_rate"
    body = frame[frame["village"] != "合计"].copy()
    body["year"] = body["period"].str[:4]
    yearly = body.groupby(["village", "year"])[["births", "births_policy"]].sum()
    for (village, year), r in yearly.iterrows():
        n, x = int(r["births"]), int(r["births_policy"])
        if n == 0 or not (target - 8) * n <= x * 100 < target * n or rng.random() > share:
            continue
        need = int(np.ceil(target * n / 100 - 1e-9)) - x
        rows = body.index[(body["village"] == village) & (body["year"] == year) & (body["births"] > body["births_policy"])]
        rows = [i for i in rows if i not in taken]
        for i in rows[::-1]:
            if need <= 0:
                break
            move = min(need, int(frame.at[i, "births"] - frame.at[i, "births_policy"]))
            frame.at[i, "births_policy"] += move
            need -= move
            frame.at[i, rate] = round(frame.at[i, "births_policy"] / frame.at[i, "births"] * 100, 2)


def _digit_preference(frame: pd.DataFrame, rng, share: float = 1 / 3) -> None:
    """Counts of 100 or more in a third of the rows rounded to end in 0 or 5, as
    figures filled in from memory are (on a count no identity ties to others)."""
    rows = frame.index[(frame["village"] != "合计") & (frame["checks_done"] >= 100)]
    rows = rows[rng.random(len(rows)) < share]
    # rounded down, so that no more are checked than were due
    frame.loc[rows, "checks_done"] = (frame.loc[rows, "checks_done"] // 5) * 5


def detected(found: pd.DataFrame, truth: pd.DataFrame) -> pd.Series:
    """For each planted error, whether a finding of its check points at it: the same
    unit and period (or the period after, for a jump), the same unit (errors of a
    whole unit), the same period (a pasted table), or the table."""
    hits = []
    by_check = {c: g for c, g in found.groupby("check")}
    for _, e in truth.iterrows():
        f = by_check.get(e["check"])
        if f is None:
            hits.append(False)
            continue
        scope = KINDS[e["kind"]][1]
        if scope == "cell":
            at = (f["unit"] == e["unit"]) & (f["period"] == e["period"])
            if e["kind"] == "time_jump":
                at |= (f["unit"] == e["unit"]) & (f["period"] == _next_period(e["period"]))
        elif scope == "unit":
            at = f["unit"] == e["unit"]
        elif scope == "period":
            at = f["period"] == e["period"]
        else:
            at = f["unit"] == ""
        hits.append(bool(at.any()))
    return pd.Series(hits, index=truth.index, dtype=bool)


def explained(found: pd.DataFrame, truth: pd.DataFrame) -> pd.Series:
    """For each finding, whether a planted error accounts for it: one planted in the
    same unit and period or the period before (a jump back), in the unit as a whole,
    in the period as a whole (or the one before), or anywhere in the period for a
    total row (the office added up the true figures), or the table for table findings."""
    cells = truth[truth["kind"].map(lambda k: KINDS[k][1]) == "cell"]
    at = set(zip(cells["unit"], cells["period"]))
    at |= {(u, _next_period(p)) for u, p in at}
    units = set(truth.loc[truth["kind"].map(lambda k: KINDS[k][1]) == "unit", "unit"])
    periods = set(truth.loc[truth["kind"].map(lambda k: KINDS[k][1]) == "period", "period"])
    periods |= {_next_period(p) for p in periods}
    planted_periods = set(cells["period"]) | periods
    if truth["kind"].isin(["pile_up", "digit_preference"]).any():  # these change counts in every period
        planted_periods |= set(found["period"])
    tables = set(truth.loc[truth["kind"].map(lambda k: KINDS[k][1]) == "table", "check"])
    out = []
    for _, f in found.iterrows():
        u, p = f["unit"], f["period"]
        out.append(bool((u, p) in at or u in units or p in periods
                        or (u == "合计" and p in planted_periods) or (u == "" and f["check"] in tables)))
    return pd.Series(out, index=found.index, dtype=bool)


def _next_period(p: str) -> str:
    if len(p) == 7 and p[4] == "-":
        y, m = int(p[:4]), int(p[5:])
        return f"{y + m // 12}-{m % 12 + 1:02d}"
    return p
