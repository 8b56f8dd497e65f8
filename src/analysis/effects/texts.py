"""Every user-facing text of the policy-effects package, in Chinese and English.

Kept here rather than in :mod:`analysis.i18n` so that the package is one folder.
"""

from __future__ import annotations

from ..i18n import check_language

TEXT: dict[str, tuple[str, str]] = {
    # notebook 05 without a treatment
    "no_treatment": ("未指定处理：要估计某项政策或奖励的效果，请给出处理列（参数 `treatment`：每个单位-时期 0/1 或各单位的开始时期），"
                     "或开始时期与处理单位（参数 `treatment_date` 与 `treated`）。",
                     "No treatment was given: to estimate the effect of a policy or an incentive, name a "
                     "treatment column (parameter `treatment`: 0/1 per unit-period, or each unit's adoption period) or a start "
                     "date with the treated units (parameters `treatment_date` and `treated`)."),
    # treatment input
    "no_treatment_column": ("表中没有处理列“{column}”（读表时只保留能识别的列，{n} 列已读入）",
                            "the table as read has no treatment column {column!r} (the reader keeps the columns it recognises; {n} read)"),
    "no_treatment_column_fix": ("在读入后的表（如 workbench table tidy 的输出）中加入该列：每个单位-时期 0/1 或开始时期；或改用 --treatment-date 与 --treated",
                                "add it to the table as read (e.g. the output of workbench table tidy): 0/1 per unit-period or each unit's adoption period; or use --treatment-date with --treated"),
    "bad_treatment_values": ("处理列“{column}”的值既不是 0/1，也不是时期（例如 {example}）",
                             "treatment column {column!r} holds neither 0/1 nor periods (e.g. {example!r})"),
    "bad_treatment_values_fix": ("写成每个单位-时期 0/1，或各单位的开始时期（如 2019-07）",
                                 "write 0/1 per unit-period or each unit's adoption period such as 2019-07"),
    "not_absorbing": ("单位“{unit}”的处理在 {period} 之后又变回 0；双重差分要求处理一旦开始便持续",
                      "unit {unit!r} goes back to untreated after {period}; difference-in-differences here needs treatment that stays on once adopted"),
    "not_absorbing_fix": ("检查该列：处理从开始时期起应一直为 1", "check the column: treatment should stay 1 from adoption on"),
    "unknown_units": ("--treated 中的单位不在表中：{units}（表中单位例如：{have}）。请按表中写法填写单位名",
                      "--treated names units not in the table: {units} (units in the table, e.g.: {have}). Fix: spell them as the table does"),
    "no_treated_given": ("给了 --treatment-date 却没有 --treated。请列出受处理单位，如 --treated 上河村,下河村",
                         "--treatment-date needs --treated. Fix: list the treated units, e.g. --treated 上河村,下河村"),
    "bad_date": ("处理日期“{date}”不是时期（应如 2019、2019-07 或 2019Q3）",
                 "treatment date {date!r} is not a period. Fix: write it as 2019, 2019-07 or 2019Q3"),
    "periods_not_dated": ("时期“{period}”不是年、季度或月份，处理日期无法对应到时期；请改用处理列（每个单位-时期 0/1）",
                          "period {period!r} is not a year, quarter or month, so a treatment date cannot be placed among the periods. Fix: give a treatment column (0/1 per unit-period) instead"),
    "date_outside": ("处理日期 {date} 不在数据的时期范围内（{first} 至 {last}）",
                     "treatment date {date} lies outside the data's periods ({first} to {last}). Fix: give a date within them"),
    "treatment_both": ("--treatment 与 --treatment-date 只能用其一", "give either --treatment or --treatment-date, not both"),
    "treatment_none": ("需要 --treatment 列名，或 --treatment-date 与 --treated",
                       "effects needs --treatment COLUMN, or --treatment-date with --treated"),
    "unknown_outcome": ("结果变量“{outcome}”既不是指标编号也不是表中的计数列（可用：{have}）",
                        "outcome {outcome!r} is neither an indicator id nor a count column of the table (available: {have})"),
    # estimators and notes
    "method_did": ("双向固定效应双重差分（单位、时期固定效应），按单位聚类稳健标准误 CRV1",
                   "difference-in-differences, two-way fixed effects (unit and period), cluster-robust SE by unit (CRV1)"),
    "method_did_did2s": ("Gardner 两步法 did2s 的处理组平均效应（对交错处理稳健），按单位聚类",
                         "Gardner two-stage did2s average effect on the treated (robust to staggered adoption), clustered by unit"),
    "method_wild": ("野聚类自助法（Rademacher 权重，施加原假设 WCR），{reps} 次；区间由检验反演得到",
                    "wild cluster bootstrap (Rademacher weights, null imposed, WCR), {reps} draws; interval by test inversion"),
    "method_twfe_es": ("朴素双向固定效应事件研究，参照期 −1，按单位聚类", "naive two-way fixed effects event study, reference period −1, clustered by unit"),
    "method_did2s": ("Gardner 两步法 did2s（对交错处理稳健），参照期 −1，按单位聚类",
                     "Gardner two-stage did2s (robust to staggered adoption), reference period −1, clustered by unit"),
    "method_pretrend": ("处理前系数全为 0 的联合检验（F({n}, {g})，聚类稳健协方差含小样本校正）",
                        "joint test that all pre-period coefficients are 0 (F({n}, {g}), cluster-robust covariance with small-sample factor)"),
    "method_pretrend_wild": ("处理前系数全为 0 的联合检验（{n} 个系数），野聚类自助法 p 值（{weights} 权重，施加原假设，{reps} 次）",
                             "joint test that all pre-period coefficients are 0 ({n} coefficients), wild cluster bootstrap p-value ({weights} weights, null imposed, {reps} draws)"),
    "pretrend_did2s_few": ("只有 {g} 个（受处理）聚类：did2s 的处理前检验会过度拒绝，未给 p 值；请看朴素双向固定效应一行的自助法 p 值",
                           "only {g} (treated) clusters: did2s's pre-trend test over-rejects, so no p-value is given; read the bootstrap p-value of the two-way fixed effects row"),
    "pretrend_note": ("估计值为 F 统计量", "estimate = F statistic"),
    "pretrend_f_few": ("估计值为 F 统计量；只有 {g} 个受处理聚类，而 {clusters} 个聚类超过自助法的上限 {most}：F 检验会过度拒绝，p 值偏小",
                       "estimate = F statistic; only {g} treated clusters, and {clusters} clusters exceed the bootstrap's limit of {most}: the F test over-rejects, so this p-value is too small"),
    "pretrend_wild_note": ("估计值为 F 统计量；聚类、受处理聚类或（加权时）有效聚类少于 30，p 值来自野聚类自助法（种子 {seed}）",
                           "estimate = F statistic; under 30 clusters, treated clusters or (weighted) effective clusters, so the p-value is a wild cluster bootstrap one (seed {seed})"),
    "method_placebo": ("安慰剂：只用处理前数据，把开始时期提前 {k} 期", "placebo: adoption moved {k} periods earlier, pre-treatment data only"),
    "did2s_too_many": ("未计算加权 did2s：{units} 个单位超过 {most}（pyfixest 的加权 did2s 所需内存随单位数×行数增长，1 万个单位 × 36 期超过 22 GB）；请去掉 --weighted，或用更高层级（如 --level township）",
                       "weighted did2s not computed: {units} units exceed {most} (pyfixest's weighted did2s needs memory growing with units × rows; 10,000 units × 36 periods took over 22 GB). Fix: drop --weighted, or use a higher level such as --level township"),
    "weighted": ("按{weight}加权", "weighted by {weight}"),
    "unweighted": ("不加权", "unweighted"),
    "few_clusters": ("只有 {g} 个聚类（少于 30），聚类稳健标准误偏小，请看野聚类自助法的 p 值与区间",
                     "only {g} clusters (under 30): cluster-robust SEs are too small; read the wild cluster bootstrap p-value and interval"),
    "unequal_weights": ("权重很不均匀，相当于约 {g} 个聚类（少于 30）：聚类稳健区间偏窄，请看野聚类自助法的 p 值与区间",
                        "weights so unequal that they count as about {g} clusters (under 30): cluster-robust intervals are too narrow; read the wild cluster bootstrap p-value and interval"),
    "no_bootstrap_many": ("{g} 个聚类超过野聚类自助法的上限 {most}，未做自助法", "no wild cluster bootstrap: {g} clusters exceed its limit of {most}"),
    "manipulable": ("结果“{outcome}”是计划生育部门自己上报并被考核的数字，政策可能改变的是上报而不是生育",
                    "the outcome, {outcome}, is reported by the family-planning office, which is assessed on it: a policy may change the reporting rather than the births"),
    "manipulable_alt": ("表中有另一部门统计的同一批出生：请再用{alt}检验", "the table has the same births counted by another office: check with {alt}"),
    "timing_note": ("处理日期 {date} 落在时期 {period} 内，该时期算作已处理", "treatment date {date} falls in period {period}, counted as treated"),
    # estimability
    "cannot_run": ("未估计政策效应：{reason}", "No policy effect was estimated: {reason}"),
    "one_period": ("只有一个时期，无法估计政策效应", "only one period: no policy effect can be estimated"),
    "no_treated": ("没有受处理单位，无法估计政策效应", "no treated unit: no policy effect can be estimated"),
    "no_untreated": ("没有未处理的对照（所有单位在同一时期或数据开始前开始处理），无法估计政策效应",
                     "no untreated comparison (every unit adopts at the same period, or before the data start): no policy effect can be estimated"),
    # notebook display
    "heading": ("政策效应：双重差分与事件研究", "Policy effects: difference-in-differences and event study"),
    "intro": ("结果变量：{outcome}；{units} 个单位（{treated} 个受处理）× {periods} 个时期；{weights}。",
              "Outcome: {outcome}; {units} units ({treated} treated) × {periods} periods; {weights}."),
    "event_heading": ("事件研究", "Event study"),
    "event_text": ("横轴为相对处理开始的时期（−1 为参照期），竖线为 95% 置信区间。交错处理且效应随时间变化时，朴素双向固定效应会有偏，did2s 不会。",
                   "Periods relative to adoption (−1 is the reference); bars are 95% confidence intervals. With staggered adoption and effects that change over time naive two-way fixed effects is biased; did2s is not."),
    "pretrend_text": ("处理前趋势检验（{estimator}）：F = {stat:.2f}，p = {p:.3f}。", "Pre-trend test ({estimator}): F = {stat:.2f}, p = {p:.3f}."),
    "nothing_heading": ("政策效应", "Policy effects"),
    "col_estimator": ("估计方法", "estimator"), "col_coefficient": ("系数", "coefficient"),
    "col_estimate": ("估计值", "estimate"), "col_se": ("标准误", "SE"), "col_ci": ("95% 区间", "95% interval"),
    "col_p": ("p 值", "p"), "col_note": ("说明", "note"),
    "axis_relative": ("相对处理开始的时期 k", "periods since adoption, k"),
    "event_title": ("{outcome} 的政策效应", "policy effect on {outcome}"),
    "axis_effect_plain": ("效应", "effect"),
    "legend_interval": ("{estimator}：估计值与 95% 置信区间", "{estimator}: estimate, 95% interval"),
    "legend_reference": ("参照期 k = −1（按定义为 0）", "reference period k = −1 (0 by definition)"),
    "legend_zero": ("无效应（0）", "no effect (0)"),
    "legend_adoption": ("处理开始（k = −1 与 0 之间）", "adoption (between k = −1 and 0)"),
    "axis_effect": ("效应（{unit}）", "effect ({unit})"),
    "legend_twfe": ("朴素双向固定效应", "naive two-way fixed effects"),
    "legend_did2s": ("did2s（稳健）", "did2s (robust)"),
}


def say(key: str, language: str = "zh", **values) -> str:
    zh, en = TEXT[key]
    return (zh if check_language(language) == "zh" else en).format(**values)


# joins the bilingual notes of one result row; "; " would not do: English notes use it inside
NOTE_JOIN = " | "


def join_notes(*notes: str) -> str:
    """Notes of one row (each "中文 / English") in one cell, split again by the page."""
    return NOTE_JOIN.join(n for n in notes if n)


def error_parts(what: str, fix: str, **values) -> dict:
    """Arguments of :class:`analysis.errors.DataError`: English ``what`` and ``fix``,
    and the Chinese pair as ``zh``."""
    return {"what": TEXT[what][1].format(**values), "fix": TEXT[fix][1].format(**values),
            "zh": (TEXT[what][0].format(**values), TEXT[fix][0].format(**values))}


def both(key: str, **values) -> str:
    """Chinese, then English, in one line: for error messages and CSV notes."""
    zh, en = TEXT[key]
    return f"{zh.format(**values)} / {en.format(**values)}"
