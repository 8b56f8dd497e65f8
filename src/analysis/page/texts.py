"""Words of the page frame and the key findings, in Chinese and English."""

from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {
    "key_findings": ("要点", "Key findings"),
    "contents": ("目录", "Contents"),
    "report_index": ("报告总览", "Report overview"),
    "index_link": ("总览", "Overview"),
    "pages_heading": ("各页", "Pages"),
    "see_section": ("见第 {number} 节", "see section {number}"),
    "figure": ("图 {number}　{caption}", "Figure {number}. {caption}"),
    "figure_alt": ("图 {number}：{caption}", "Figure {number}: {caption}"),
    "figure_plain": ("图表", "chart"),
    "appendix": ("附录：可重复性", "Appendix: reproducibility"),
    "appendix_intro": ("重新生成本报告所需的参数与运行信息。", "The parameters and run facts needed to make this report again."),
    "parameters": ("参数", "Parameters"),
    "run_facts": ("运行信息", "Run facts"),
    "first_sheet": ("第一个工作表", "first sheet"),
    "all_sheets": ("全部工作表", "all sheets"),
    "none": ("无", "none"),
    "not_set": ("未设置", "not set"),
    "sheets_span": ("{first} … {last}（共 {n} 个工作表）", "{first} … {last} ({n} sheets)"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "list_sep": ("、", ", "),
    "data_file": ("数据文件", "Data file"),
    "sheet": ("工作表", "Sheet"),
    "data_sha": ("数据 SHA-256", "Data SHA-256"),
    "version": ("软件版本", "Package version"),
    "commit": ("代码提交", "Git commit"),
    "started": ("开始时间", "Started"),
    "finished": ("结束时间", "Finished"),
    # what the data is, said once at the top of every page and on the index
    "data_statement": ("数据：文件 {file}{sheet}，{units} 个单位，{periods}{births}。",
                       "Data: file {file}{sheet}, {units} {unit_word}, {periods}{births}."),
    "data_births": ("，共出生 {births:,.0f} 人", ", {births:,.0f} births in all"),
    # key findings
    "kf_srb_extreme": ("在出生不少于 {small} 个的单位-时期中，出生人口性别比最偏离参考值 {reference:g} 的是 {unit}（{period}）：{value:.1f}，基于 {births:,.0f} 个出生。",
                       "Among unit-periods with at least {small} births, the sex ratio at birth farthest from the reference "
                       "{reference:g} is {unit} ({period}): {value:.1f} boys per 100 girls, from {births:,.0f} births."),
    "kf_compliance_low": ("计划生育率最低的是 {unit}（{period}）：{value:.2f}%；最高的是 {high_unit}（{high_period}）：{high:.2f}%。",
                          "The lowest policy-compliant birth rate is {unit} ({period}) at {value:.2f}%; the highest is "
                          "{high_unit} ({high_period}) at {high:.2f}%."),
    "kf_checks": ("首轮检查有 {n} 条发现（错误 {errors} 条），涉及 {units} 个单位。",
                  "The first checks give {n_words} ({errors_words}) about {units_words}."),
    "kf_no_checks": ("首轮检查没有发现问题。", "The first checks found nothing."),
    "kf_srb_pooled": ("全部单位合计出生人口性别比为 {value:.1f}（男 {boys:,.0f}、女 {girls:,.0f}），参考值 {reference:g}。",
                      "Over all units the sex ratio at birth is {value:.1f} ({boys:,.0f} boys, {girls:,.0f} girls); "
                      "the reference is {reference:g}."),
    "kf_srb_flagged": ("{n} 个单位-时期的性别比超出参考区间，且超出偶然波动所能解释的范围。",
                       "{n} unit-periods have a sex ratio outside the reference band by more than chance explains."),
    "kf_srb_flagged_one": ("1 个单位-时期的性别比超出参考区间，且超出偶然波动所能解释的范围。",
                           "1 unit-period has a sex ratio outside the reference band by more than chance explains."),
    "kf_srb_none_flagged": ("没有哪个单位的性别比超出偶然波动所能解释的范围。",
                            "No unit's sex ratio lies outside the reference band by more than chance explains."),
    "kf_srb_strongest": ("证据最强的是 {unit}（{period}）：{value:.1f}，男 {boys:,.0f}、女 {girls:,.0f}。",
                         "The strongest case is {unit} ({period}): {value:.1f}, {boys:,.0f} boys and {girls:,.0f} girls."),
    "kf_score_top": ("{period}得分最高的是 {unit}（{score:.2f} 分），最低的是 {low_unit}（{low:.2f} 分）。",
                     "In {period} the highest score is {unit}'s ({score:.2f}) and the lowest {low_unit}'s ({low:.2f})."),
    "kf_vetoed": ("{period}有 {n} 个单位被一票否决。", "In {period}, {n_words} vetoed."),
    "kf_rank_interval": ("{period}，{unit}排名第 {rank}；按 {replicates} 次自助重抽，其名次区间为 {low:.0f}–{high:.0f}。",
                         "In {period} {unit} ranks {rank}; over {replicates} bootstrap replicates its rank interval is "
                         "{low:.0f}–{high:.0f}."),
    "kf_sources": ("{n} 处出生数与其他部门（卫生、公安）统计的不一致。",
                   "{n} birth counts differ from another office's count of the same births (health, police)."),
    "kf_sources_one": ("1 处出生数与其他部门（卫生、公安）统计的不一致。",
                       "1 birth count differs from another office's count of the same births (health, police)."),
    "kf_total_row": ("合计行“{unit}”", "the total row '{unit}'"),
    "kf_units_flagged": ("{units} 个单位的数字有疑问，共 {n} 条发现（错误 {errors} 条）；最该先核查的是 {first}。",
                         "{units_words} {have} questionable figures, {n_words} in all ({errors_words}); {first} comes "
                         "first to check."),
    "kf_do_not_add_up": ("{n} 处数字对不上：各部分之和不等于合计。", "{n} figures do not add up: parts differ from their totals."),
    "kf_all_add_up": ("各部分之和与合计都对得上。", "Parts add up to their totals everywhere."),
    "kf_trend": ("全部单位合计的{indicator}由 {first}的 {first_value:.{decimals}f}{unit} 变为 {last}的 {last_value:.{decimals}f}{unit}（{change:+.1f}%）。",
                 "Over all units the {indicator} went from {first_value:.{decimals}f}{unit} in {first} to {last_value:.{decimals}f}{unit} in {last} "
                 "({change:+.1f}%)."),
    "kf_no_sexes": ("本表没有分性别的出生数，无法计算出生人口性别比。", "The table has no births by sex: no sex ratio at birth can be computed."),
    "kf_none_scored": ("没有单位能计分：{missing}", "No unit could be scored: {missing}"),
    "kf_effect": ("政策对{outcome}的效应（双重差分）：{estimate}{unit}，95% 区间 [{low}, {high}]，p {p}。",
                  "Policy effect on the {outcome} (difference-in-differences): {estimate}{unit}, 95% interval "
                  "[{low}, {high}], p {p}."),
    "kf_effect_boot": ("政策对{outcome}的效应（双重差分）：{estimate}{unit}；只有 {g} 个聚类，按野聚类自助法 95% 区间 [{low}, {high}]，p {p}。",
                       "Policy effect on the {outcome} (difference-in-differences): {estimate}{unit}; with only {g} "
                       "clusters, the wild cluster bootstrap's 95% interval is [{low}, {high}], p {p}."),
    "kf_no_effect": ("未估计政策效应：{reason}。", "No policy effect was estimated: {reason}."),
    "kf_no_trend": ("数据只有一个时期（{period}），看不出趋势。", "The data hold one period ({period}): there is no trend to see."),
}


def t(key: str, language: str = "zh", **values) -> str:
    """The text ``key`` in ``language`` ("zh" or "en") with ``values`` filled in; KeyError
    for an unknown key."""
    zh, en = TEXT[key]
    return (zh if language == "zh" else en).format(**values)
