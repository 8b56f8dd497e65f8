"""Chinese and English texts of the trend analysis (labels, notes, headings)."""

from __future__ import annotations

from ..columns import count_fields
from ..registry import indicators

TEXTS: dict[str, tuple[str, str]] = {
    "note_poisson": ("泊松回归（对数人年为偏移量）", "Poisson GLM, log person-years offset"),
    "note_count": ("泊松回归（无人口数：计数本身的趋势）", "Poisson GLM on the count itself (the table has no population)"),
    "note_negbin": ("过度离散（皮尔逊离散度 > {limit}）：改用负二项回归", "overdispersed (Pearson dispersion > {limit}): negative binomial GLM"),
    "note_binomial": ("二项回归（logit）；年变化百分比指优势 p/(1−p) 的变化", "binomial GLM (logit); the APC is of the odds p/(1−p)"),
    "note_quasi": ("过度离散（皮尔逊离散度 > {limit}）：拟二项，区间按离散度放大", "overdispersed (Pearson dispersion > {limit}): quasi-binomial, intervals widened by the dispersion"),
    "note_srb": ("男婴占比的二项回归；logit 即 log(男/女)，年变化百分比即性别比本身的变化", "binomial GLM on the share of boys; its logit is log(boys/girls), so the APC is the sex ratio's own"),
    "note_log_linear": ("表中只有印出的比率、没有计数：对数比率线性回归，无抽样权重", "the table prints only the rate, no counts: log-rate linear model without sampling weights"),
    "note_season": ("月度（季度）数据：先纳入月份（季度）效应再判断趋势", "monthly (quarterly) data: month-of-year (quarter) effects are in the model before the trend is judged"),
    "note_no_season": ("月度（季度）数据，但有的月份（季度）各年均无事件：未纳入月份效应", "monthly (quarterly) data, but some month (quarter) of the year has no events in any year: no month effects in the model"),
    "note_zero": ("{n} 期计数为 0，对数无定义，连接点模型未用", "{n} periods with a zero count have no log and are left out of the joinpoint model"),
    "note_flat": ("各期均无事件（或全部是事件）：趋势无有限估计", "no events in any period (or nothing but events): the trend has no finite estimate"),
    "note_short": ("只有 {n} 期，不足以估计趋势", "only {n} periods: too few for a trend"),
    "note_break_outside": ("断点 {at} 不在数据期间内", "the break {at} lies outside the data's span"),
    "note_jp_cap": ("{periods} 期数据最多允许 {k} 个连接点", "{periods} periods allow at most {k} joinpoints"),
    "note_jp_share": ("连接点模型用比例本身的对数：年变化百分比指比例本身（广义线性模型趋势指优势）", "the joinpoint model is on the log of the share: its APC is of the share itself (the GLM trend's is of the odds)"),
    "title": ("趋势与政策效果", "Trends and policy effects"),
    "trends_heading": ("趋势与年变化百分比", "Trends and annual percent change"),
    "trends_intro": ("{outcome}：{level}，按{grain}。拟合趋势带 95% 置信带；连接点回归（加权最小二乘，对数比率，泊松方差权重；连接点个数按 {method} 选择）。",
                     "{outcome}, {level}, by {grain}. Fitted trend with 95% band; joinpoint regression (weighted least squares on the log rate, Poisson-variance weights; number of joinpoints by {method})."),
    "nothing_to_show": ("只有 {n} 个时期，没有可显示的趋势。", "Only {n} period(s): there is no trend to show."),
    "one_period": ("数据只有一个时期（{period}），看不出趋势。", "The data hold one period ({period}): there is no trend to see."),
    "few_periods": ("数据只有 {n} 个时期（{periods}），趋势至少需要 {least} 个。",
                    "The data hold {n} periods ({periods}): a trend needs at least {least}."),
    "no_series": ("没有哪个时期具备计算该结果所需的全部计数（例如有单位缺数），没有可显示的趋势。",
                  "No period has every count this outcome needs (a unit lacks one, for example): there is no trend to show."),
    "not_dated": ("时期“{period}”不是年、季度或月份，排不到时间轴上，因此不分析趋势。",
                  "The period '{period}' is not a year, quarter or month, so it has no place in time and no trend is fitted."),
    "cannot_run": ("无法分析趋势：{reason}", "No trend could be fitted: {reason}"),
    "jp_table_heading": ("连接点与年变化百分比", "Joinpoints and annual percent change"),
    "observed": ("观测值", "observed"), "fitted": ("拟合趋势", "fitted trend"),
    "band": ("95% 置信带", "95% band"), "joinpoint_fit": ("连接点模型", "joinpoint model"),
    "joinpoint": ("连接点", "joinpoint"), "year": ("年份", "year"),
    "axis_year": ("年份", "year"), "axis_quarter": ("季度", "quarter"), "axis_month": ("月份", "month"),
    "col_notes": ("注", "notes"), "note_line": ("注 {n}：{text}", "Note {n}: {text}"),
    "col_unit": ("单位", "unit"), "col_what": ("项目", "item"), "col_start": ("起", "from"), "col_end": ("止", "to"),
    "col_apc": ("年变化百分比 (%)", "APC (%)"), "col_ci": ("95% 置信区间", "95% CI"), "col_p": ("p 值", "p value"),
    "what_trend": ("整体趋势", "trend"), "what_segment": ("分段", "segment"), "what_aapc": ("平均年变化百分比", "AAPC"),
    "what_break_before": ("断点前", "before break"), "what_break_after": ("断点后", "after break"),
    "grain_year": ("年", "year"), "grain_quarter": ("季度", "quarter"), "grain_month": ("月", "month"),
    "level_all": ("全部单位", "all units"), "method_bic": ("BIC", "BIC"), "method_bic3": ("BIC3（较严惩罚的 BIC）", "BIC3 (BIC with a harsher penalty)"),
    "method_wbic": ("加权 BIC（WBIC）", "weighted BIC (WBIC)"), "method_permutation": ("置换检验", "permutation test"),
    "units_left_out": ("图中只画前 {shown} 个单位（共 {total} 个）；全部见 workbench table trends。",
                       "The figure shows the first {shown} of {total} units; all are in workbench table trends."),
}

_COUNT_NAMES = {"births": ("出生数", "births"), "deaths": ("死亡数", "deaths")}


def text(key: str, language: str, **values) -> str:
    zh, en = TEXTS[key]
    return (zh if language == "zh" else en).format(**values)


def outcome_label(outcome_id: str, language: str) -> str:
    """An outcome's name with its unit, for axes and headings."""
    regs = indicators()
    if outcome_id in regs:
        return regs[outcome_id].label(language)
    if outcome_id in _COUNT_NAMES:
        zh, en = _COUNT_NAMES[outcome_id]
        return zh if language == "zh" else en
    if outcome_id.startswith("reported_") and outcome_id[len("reported_"):] in regs:
        ind = regs[outcome_id[len("reported_"):]]
        return f"{'印出的' if language == 'zh' else 'printed '}{ind.label(language)}"
    f = count_fields().get(outcome_id)
    return (f.zh if language == "zh" else f.en) if f else outcome_id
