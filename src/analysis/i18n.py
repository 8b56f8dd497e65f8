"""User-facing text in Chinese and English; ``language`` is ``"zh"`` or ``"en"``."""

from __future__ import annotations

from .columns import count_fields, geography_labels

LANGUAGES = ("zh", "en")

TEXT: dict[str, tuple[str, str]] = {
    "title_indicators": ("人口与计划生育指标", "Population and family-planning indicators"),
    "data_heading": ("数据概况", "What the data holds"),
    "data_summary": ("文件 **{file}**{sheet}：{units} 个{level}，{periods}，"
                     "{rows} 行数据{totals}。",
                     "File **{file}**{sheet}: {units} {level}, {periods}, "
                     "{rows} rows of figures{totals}."),
    "data_summary_totals": ("，另有 {n} 行合计", ", plus {n} total rows"),
    "data_summary_total": ("，另有 1 行合计", ", plus 1 total row"),
    "periods_span": ("{n} 个时期（{first} 至 {last}）", "{n} periods ({first} to {last})"),
    "periods_one": ("1 个时期（{first}）", "1 period ({first})"),
    "periods_none": ("没有时期", "no period"),
    "sheet": ("（工作表 {sheet}）", " (sheet {sheet})"),
    "sheets_all": ("（全部 {n} 个工作表）", " (all {n} sheets)"),
    "columns_found": ("识别出的列", "Columns recognised"),
    "columns_summary": ("{n} 列已识别（点击展开）", "{n} columns recognised (click to open)"),
    "columns_ignored": ("未使用的列：{cols}。", "Columns not used: {cols}."),
    "load_notes": ("读取说明", "Notes from reading"),
    "missing_heading": ("缺失值", "Missing values"),
    "no_missing": ("没有缺失值。", "No missing values."),
    "missing_note": ("缺失的数按缺失处理，不当作 0；含缺失月份的合计也为缺失。",
                     "Missing figures stay missing, never zero; a sum over periods with a missing part is missing too."),
    "indicators_heading": ("指标", "Indicators"),
    "no_indicators": ("本表的列不足以计算任何指标（例如有出生数但没有人口数）；表中印出的比率见下方的可信度检查。",
                      "No indicator can be computed from the columns of this table (for example, births without a "
                      "population); the rates it prints are checked under believability below."),
    "no_indicators_why": ("本表的列不足以计算任何指标：有{have}，但没有{lack}；表中印出的比率见下方的可信度检查。",
                          "No indicator can be computed from the columns of this table: it has {have} but no {lack}; "
                          "the rates it prints are checked under believability below."),
    "indicators_intro": ("按{level}、{grain}汇总：先把计数相加，再计算比率，从不平均比率。共 {n} 项指标。",
                         "Aggregated by {level} and {grain}: counts are summed first and the rates recomputed, "
                         "never averaged. {n} indicators."),
    "rounding_note": ("比率显示 {decimals} 位小数，性别比 1 位；舍入方式：{rounding}。",
                      "Rates are shown with {decimals} decimals, sex ratios with 1; rounding: {rounding}."),
    "theme_vital": ("出生、死亡与政策符合", "Births, deaths and policy compliance"),
    "theme_sex_ratio": ("出生人口性别比", "Sex ratios at birth"),
    "theme_contraception": ("避孕与孕环检", "Contraception and checks"),
    "theme_fees_migrants": ("社会抚养费、流动人口与工作任务", "Fees, migrants and tasks"),
    "theme_other": ("其他指标", "Other indicators"),
    "small_births_rule": ("括号中的性别比所依据的出生数少于 {n} 个，偶然波动很大（真实值为 106 时，50 个出生的性别比有 95% 落在约 60 至 195 之间），不宜据此比较或下结论。",
                          "A sex ratio in brackets rests on fewer than {n} births and swings widely by chance (with a "
                          "true 106, 95% of ratios on 50 births fall between about 60 and 195): do not compare or judge by it."),
    "period_all": ("全部时期", "all periods"),
    "table_show_all": ("显示全部 {n} 行（现显示前 {shown} 行）", "Show all {n} rows (the first {shown} are shown)"),
    "table_filter": ("筛选行：输入单位名或数字", "Filter rows: type a name or number"),
    "table_download": ("下载本表：", "Download this table:"),
    "by_unit_heading": ("各单位比较", "Units compared"),
    "rows_left_out": ("表中共 {total} 行，此处只显示前 {shown} 行；全部结果请用 `{command}` 导出。",
                      "The table has {total} rows; the first {shown} are shown here. `{command}` gives them all."),
    "chart_level_note": ("数据有 {units} 个{level}，一张图最多能看清 {most} 个，下面的图按{shown}汇总。",
                         "The data hold {units} {level} units, more than the {most} a chart can show legibly, so the "
                         "charts below sum them by {shown}."),
    "chart_extremes_note": ("共 {units} 个单位有估计值；图中只画出估计值最高和最低的各 {half} 个。",
                            "{units} units have an estimate; the chart shows the {half} highest and the {half} lowest."),
    "over_time_heading": ("随时间变化", "Over time"),
    "checks_heading": ("数据可信度初查", "First believability checks"),
    "no_findings": ("没有发现问题。", "No findings."),
    "findings_intro": ("共 {n} 条发现（错误 {errors} 条）。按严重程度排列：",
                       "{n} findings ({errors} errors), most serious first:"),
    "glossary_heading": ("指标说明", "Glossary"),
    "run_facts": ("运行信息", "Run facts"),
    "parameters": ("参数", "Parameters"),
    "unit": ("单位", "unit"),
    "period": ("时期", "period"),
    "indicator": ("指标", "indicator"),
    "why_blank": ("原因", "why"),
    "blank_values_intro": ("{n} 个指标值为空（—）或无穷大（∞），原因如下：",
                           "{n} indicator values are blank (—) or infinite (∞), for these reasons:"),
    "blank_values_more": ("展开全部 {n} 条", "show all {n}"),
    "value": ("数值", "value"),
    "numerator": ("分子", "numerator"),
    "denominator": ("分母", "denominator"),
    "severity": ("严重程度", "severity"),
    "check": ("检查", "check"),
    "message": ("说明", "message"),
    "births": ("出生人数", "births"),
    "column": ("列", "column"),
    "count_missing": ("缺失个数", "missing cells"),
    "grain_as_is": ("原始时期", "period as given"),
    "grain_month": ("月", "month"),
    "grain_quarter": ("季度", "quarter"),
    "grain_year": ("年", "year"),
    "grain_all": ("全部时期合并", "all periods pooled"),
    "rounding_none": ("不舍入（保留全部精度）", "none (full precision kept)"),
    "rounding_half_up": ("四舍五入", "half up"),
    "rounding_truncate": ("截尾", "truncation"),
    "level_unit": ("单位", "unit"),
    "level_all": ("全部", "all units"),
    # check names as readers see them (the check column of the believability tables)
    "checkname_cell_not_number": ("单元格不是数字", "cell is not a number"),
    "checkname_decimal_point_lost": ("小数点丢失", "decimal point lost"),
    "checkname_digit_typo": ("疑似录入错位", "likely typing slip"),
    "checkname_fractional_count": ("人数带小数", "count with a fraction"),
    "checkname_implausible_count": ("人数不合常理", "implausible count"),
    "checkname_implausible_rate": ("比率不合常理", "implausible rate"),
    "checkname_last_digits_uneven": ("末位数字分布不均", "last digits uneven"),
    "checkname_natural_growth_rate_differs": ("自然增长率与出生率、死亡率不符", "natural growth rate ≠ birth rate − death rate"),
    "checkname_natural_increase_differs": ("自然增长人数与出生、死亡不符", "natural increase ≠ births − deaths"),
    "checkname_numerator_exceeds_denominator": ("分子大于分母", "numerator exceeds denominator"),
    "checkname_parts_do_not_add_up": ("分项之和不等于合计", "parts do not add up"),
    "checkname_period_misfit": ("时期写法与其他行不同", "period written unlike the rest"),
    "checkname_pile_up_at_target": ("数值堆积在考核目标处", "values pile up at the target"),
    "checkname_reported_rate_disagrees": ("报告比率与计数不符", "printed rate disagrees with the counts"),
    "checkname_scale_slip": ("单位换算错误（差 10 倍）", "scale slip (10× off)"),
    "checkname_sources_disagree": ("不同部门的数字不一致", "offices' counts disagree"),
    "checkname_srb_counts_backsolved": ("由性别比反推的出生数", "births worked back from the sex ratio"),
    "checkname_srb_no_counts_fit": ("没有与性别比相符的出生数", "no counts fit the sex ratio"),
    "checkname_srb_outlier": ("出生人口性别比异常", "sex ratio at birth out of range"),
    "checkname_subtotal_differs_from_parts": ("小计不等于各部分之和", "subtotal differs from its parts"),
    "checkname_table_pasted": ("表格疑似重复粘贴", "table looks pasted twice"),
    "checkname_time_jump": ("前后时期突变", "jump between periods"),
    "checkname_total_differs_from_units": ("合计不等于各单位之和", "total differs from the units"),
    "severity_error": ("错误", "error"),
    "severity_warning": ("警告", "warning"),
    "severity_info": ("提示", "info"),
    "definition": ("定义", "definition"),
    "title_checks": ("数据可信度检查", "Are the figures believable?"),
    "checks_intro": ("逐一检查：各部分之和与合计、分子不大于分母、报告比率与计数、漏掉的小数点和打错的数字、贴错的表、不同部门的同一批出生、"
                     "随时间的跳变、性别比的离群值、末位数字与首位数字。共 {n} 条发现。",
                     "Checked: parts against totals, numerators within denominators, printed rates against counts, lost "
                     "decimal points and digits typed wrong, tables pasted under the wrong heading, the same births counted by two offices, jumps over time, sex-ratio "
                     "outliers, last and first digits. {n} findings."),
    "review_heading": ("优先核查名单", "What to look at first"),
    "review_intro": ("按证据分量排序（错误 3 分、警告 2 分、提示 0.5 分）：", "Units ranked by the weight of evidence (error 3, warning 2, info 0.5):"),
    "weight": ("分量", "weight"),
    "n_findings": ("发现数", "findings"),
    "by_check_heading": ("按检查分类", "By check"),
    "all_findings": ("全部 {n} 条发现（点击展开）", "All {n} findings (click to open)"),
    "digits_heading": ("数字的分布", "Digits"),
    "last_digit_result": ("末位数字（{n} 个不小于 100 的流量计数）：χ² = {chi2:.1f}，p = {p}。末位数字若是编造的，往往不均匀。",
                          "Last digits ({n} flow counts of 100 or more): χ² = {chi2:.1f}, p = {p}. Made-up figures tend to have uneven last digits."),
    "benford_result": ("首位数字（{n} 个计数）与本福特定律的平均绝对偏差 MAD = {mad:.4f}：{verdict}。",
                       "First digits ({n} counts) against Benford's law: mean absolute deviation {mad:.4f}, {verdict}."),
    "not_applicable": ("{test}不适用：{reason}。", "{test} does not apply: {reason}."),
    "last_digit_test": ("末位数字检验", "The last-digit test"),
    "benford_test": ("本福特检验", "The Benford test"),
    "pile_heading": ("是否堆积在考核目标上", "Do rates pile up at the targets?"),
    "pile_intro": ("考核方案“{scheme}”的每个目标：刚好达标（目标以上 {width:g} 个点内）和差一点达标（目标以下 {width:g} 个点内）的单位数，"
                   "与目标上下 {band:g} 个点内、不含这两个窗口的单位所拟合的平滑分布相比（每个单位的计数按其分母服从二项分布）。"
                   "检验量是“移位”：上方多出的单位数加下方缺少的单位数。p 值来自按平滑分布模拟并重新拟合的表（至多 4000 张），"
                   "区间为按单位重抽样的自助法 95% 区间。按{grain}汇总。",
                   "Each target of the scheme “{scheme}”: units just meeting it (within {width:g} points above) and just "
                   "short of it (within {width:g} points below) against a smooth distribution fitted to the units within "
                   "{band:g} points of the target but outside those two windows (each unit's count binomial on its own "
                   "denominator). The statistic is the shift: units in excess above plus units missing below. The p-value "
                   "comes from tables drawn from the smooth distribution and fitted again (up to 4,000); the interval is "
                   "a 95% bootstrap over units. Units are summed by {grain}."),
    "shift_units": ("移位（单位数）", "shift (units)"),
    "deficit_units": ("下方缺少", "missing below"),
    "null_draws": ("模拟表数", "tables drawn"),
    "pile_none": ("方案中没有可由本表计数检验的目标。", "The scheme has no target that this table's counts can test."),
    "pile_flagged": ("{n} 个目标处有堆积。", "Rates pile up at {n} target(s)."),
    "pile_clear": ("没有发现堆积。", "No pile-up found."),
    "pile_none_tested": ("没有一个目标能够检验，原因见下表。", "No target could be tested; the table says why."),
    "pile_refused": ("未检验", "not tested"),
    "threshold": ("目标", "target"),
    "observed_units": ("实际单位数", "units observed"),
    "expected_units": ("平滑分布预计", "smooth expectation"),
    "excess_units": ("多出", "excess"),
    "interval_95": ("95% 区间", "95% interval"),
    "p_value": ("p 值", "p-value"),
    "result": ("结论", "result"),
    "pile_yes": ("堆积", "pile-up"),
    "pile_no": ("无", "none"),
    "units_per_bin": ("单位数", "units"),
    "counterfactual": ("平滑分布预计", "smooth counterfactual"),
    "verdict_close": ("非常符合", "close conformity"),
    "verdict_acceptable": ("可以接受", "acceptable conformity"),
    "verdict_marginal": ("勉强符合", "marginal conformity"),
    "verdict_nonconformity": ("不符合", "nonconformity"),
    "title_scores": ("目标管理责任制考核评分", "Assessment scores"),
    "scheme_intro": ("考核方案：**{name}**（满分 {scale:g} 分；来源：{source}）。按{level}、{grain}评分，每一分的得失都可追溯到方案中的条目和规则。",
                     "Scheme: **{name}** ({scale:g} points; source: {source}). Scored by {level} and {grain}; every point "
                     "won or lost traces back to an item and a rule of the scheme."),
    "scheme_problems": ("方案本身的问题（校验器发现）：", "Problems in the scheme itself (found by the validator):"),
    "scheme_clean": ("校验器未发现方案本身的问题。", "The validator found no problem in the scheme itself."),
    "manual_note": ("{n} 个条目只能由考核人员打分（{items}）；数据中没有这些分数时按{default}计。",
                    "{n} items can only be scored by inspectors ({items}); where the data lack those points they count as {default}."),
    "manual_full": ("满分", "full points"),
    "manual_zero": ("零分", "zero"),
    "manual_missing": ("缺失", "missing"),
    "what_if_note": ("假设情景：{what_if}。", "What-if: {what_if}."),
    "scores_heading": ("得分、排名与等级", "Scores, ranks and tiers"),
    "scores_intro": ("区间来自自助法（{replicates} 次重抽样）：每个单位的每个比率从其 Jeffreys 后验分布 Beta(x + ½, n − x + ½) "
                     "抽取（观测为 0% 或 100% 的比率同样有不确定性），再按方案计分。区间宽说明排名主要由小数字的随机波动决定。",
                     "Intervals come from a bootstrap ({replicates} replicates): each unit's every rate is drawn from its "
                     "Jeffreys posterior, Beta(x + ½, n − x + ½) (a rate observed at 0% or 100% is uncertain too), and the "
                     "scheme applied again. A wide interval says the ranking rests on the noise of small numbers."),
    "scores_capped": ("本表共 {rows} 个单位·时期（{units} 个单位、{periods}），一页列不下：这里只列出最近一个完整时期 {period} 的 "
                      "{shown} 个单位（名次 {ranks}），区间与敏感性也只就这一时期计算，其余 {hidden} 行未列出；"
                      "`workbench table scores DATA --scheme {scheme}` 给出全部。",
                      "The table has {rows:,} unit-periods ({units:,} units, {periods}), more than a page can list: "
                      "shown are {shown:,} units of the latest complete period, {period} (ranks {ranks}), with intervals and "
                      "sensitivity computed for that period only, and the other {hidden:,} are not; "
                      "`workbench table scores DATA --scheme {scheme}` gives them all."),
    "scores_none": ("没有可以计分的单位·时期。", "No unit-period could be scored."),
    "scores_unscored": ("{why}。未计分的单位·时期没有得分、名次、等级和概率。",
                        "{why}. A unit-period without a score has no rank, tier or probability."),
    "scores_partial": ("{why}。方案允许部分计分：部分得分只与覆盖相同的得分比较名次，不定等级。",
                       "{why}. The scheme allows partial scores: a partial score ranks only among scores of the same "
                       "coverage and gets no tier."),
    "covered": ("计分覆盖", "points covered"),
    "score": ("得分", "score"),
    "score_ci": ("得分区间", "score interval"),
    "rank": ("名次", "rank"),
    "rank_ci": ("名次区间", "rank interval"),
    "tier": ("等级", "tier"),
    "p_vetoed": ("被否决概率", "P(vetoed)"),
    "lost_heading": ("失分原因", "Why points were lost"),
    "lost_intro": ("各条目失分合计（全部单位）：", "Points lost per item, all units together:"),
    "lost_detail": ("逐条失分原因（{n} 条，点击展开）", "Every point lost, with its reason ({n} rows, click to open)"),
    "sensitivity_heading": ("排名对目标值的敏感性", "How rankings move with the targets"),
    "sensitivity_intro": ("把每个目标值在 ±{shift:g} 个百分点内、每个大项的权重在 ±{weight:g}% 内随机移动 {runs} 次，与原排名比较的 Kendall τ"
                          "（1 表示排名不变）：",
                          "Every target moved at random within ±{shift:g} points and every item's weight within ±{weight:g}%, "
                          "{runs} times; Kendall's tau against the scheme's own ranking (1: the ranking does not move):"),
    "sensitivity_none": ("没有可比较的排名：没有一个时期有 3 个以上有得分的单位。",
                         "No ranking to compare: no period has three or more units with a score."),
    "seed_line": ("随机种子（{what}）：{seed}。由数据的 SHA-256 和影响结果的参数得出，与报告语言无关：同样的数据和参数每次都得到同样的数字。",
                  "Random seed ({what}): {seed}. It is derived from the data's SHA-256 and the parameters that change "
                  "the results, not from the report's language: the same data and parameters give the same numbers "
                  "every time."),
    "seed_scores.bootstrap": ("自助法区间", "bootstrap intervals"),
    "seed_scores.sensitivity": ("敏感性分析", "sensitivity runs"),
    "seed_pile_up": ("堆积检验", "pile-up test"),
    "seed_effects.wild_bootstrap": ("野聚类自助法", "wild cluster bootstrap"),
    "seed_effects.pretrend_bootstrap": ("处理前趋势检验的野聚类自助法", "wild cluster bootstrap of the pre-trend test"),
    "seed_trends.permutation": ("连接点置换检验", "joinpoint permutation test"),
    "what_if_heading": ("假设情景下的名次变化", "Ranks under the what-if"),
    "rank_before": ("原名次", "rank"),
    "rank_after": ("假设情景名次", "rank under what-if"),
    "points_lost": ("失分", "points lost"),
    "item": ("条目", "item"),
    "tau_mean": ("τ 平均", "mean tau"),
    "tau_min": ("τ 最小", "lowest tau"),
    "tau_p05": ("τ 5% 分位", "tau, 5th percentile"),
    "title_srb": ("出生人口性别比", "Sex ratio at birth"),
    "srb_intro": ("参照水平：{reference}（{source}）。区间方法：{method}，置信水平 95%。每个{level}与参照水平作精确二项检验，"
                  "并在各单位之间用 Benjamini–Hochberg 方法控制错误发现率（q 值）。",
                  "Reference level: {reference} ({source}). Intervals: {method}, 95%. Each {level} is tested against the "
                  "reference with an exact binomial test, and the false discovery rate across units is controlled with "
                  "Benjamini–Hochberg q-values."),
    "srb_left_out": ("合计不含男婴或女婴数缺失的 {n} 行：{units}。", "The totals leave out the row(s) whose boys or girls are missing ({n}): {units}."),
    "srb_pooled": ("合计 {births:,.0f} 名出生，男 {boys:,.0f}、女 {girls:,.0f}，性别比 **{srb:.1f}**（95% 区间 {low:.1f}–{high:.1f}）。"
                   "仅凭抽样波动，{births:,.0f} 名出生的性别比会落在 {band_low:.1f}–{band_high:.1f} 之间。",
                   "In all, {births:,.0f} births, {boys:,.0f} boys and {girls:,.0f} girls: a sex ratio of **{srb:.1f}** "
                   "(95% interval {low:.1f}–{high:.1f}). Sampling alone would put the ratio of {births:,.0f} births "
                   "between {band_low:.1f} and {band_high:.1f}."),
    "srb_flagged_heading": ("需要关注的单位", "Units to look at"),
    "srb_flagged_intro": ("性别比落在 {low:.1f}–{high:.1f}（参照范围上下各放宽 4 个点）之外、且超出随机波动的单位"
                          "（精确二项检验，同期各单位之间的错误发现率 q < 0.05）：",
                          "Units whose sex ratio lies beyond {low:.1f}–{high:.1f} (the reference's range widened by 4 "
                          "points) by more than chance (exact binomial test, false discovery rate q < 0.05 over the "
                          "units of the period):"),
    "srb_none_flagged": ("没有单位的性别比在考虑抽样波动和多重比较之后落在 {low:.1f}–{high:.1f} 之外。",
                         "No unit's sex ratio lies beyond {low:.1f}–{high:.1f} once sampling and multiple comparisons "
                         "are allowed for."),
    "srb_all_units": ("全部 {n} 行（点击展开）", "All {n} rows (click to open)"),
    "funnel_heading": ("漏斗图", "Funnel plot"),
    "funnel_intro": ("横轴为出生人数，虚线和点线是仅凭抽样波动时 95% 和 99.8% 的单位应落入的范围。出生少的单位性别比波动大，"
                     "落在范围内的极端值不说明问题；落在 99.8% 范围之外的单位标出名称。",
                     "Births on the horizontal axis; the dashed and dotted lines enclose 95% and 99.8% of units when "
                     "only sampling is at work. Small units swing widely, and an extreme ratio inside the funnel is no "
                     "evidence; units beyond the 99.8% limits are named."),
    "shrink_heading": ("小区域估计", "Small-area estimates"),
    "shrink_intro": ("经验贝叶斯（贝塔-二项）估计把每个单位的性别比向其上级（{parent}）各单位的估计中心收缩，出生越少收缩越多，"
                     "因此不会仅凭随机波动给出生很少的单位排名。先验的中心和离散程度由各单位共同估计，并对其不确定性积分，"
                     "所以一个很大的单位不会把小单位拉到过窄的区间里。",
                     "Empirical-Bayes (beta-binomial) estimates pull each unit's ratio toward the estimated centre of the "
                     "units of its parent level ({parent}), the more so the fewer its births, so that a unit with few "
                     "births is not ranked on noise. The prior's centre and spread are estimated from the units together "
                     "and their uncertainty integrated over, so one very large unit cannot pull small ones into a "
                     "misleadingly narrow band."),
    "orders_heading": ("分孩次性别比", "By birth order"),
    "orders_intro": ("全部单位合计，按孩次分列。性别选择通常集中在二孩及以上，所以一孩正常、高孩次偏高的格局值得注意。",
                     "All units together, by birth order. Sex selection usually concentrates at second and later births, "
                     "so a normal ratio at first births beside high ratios at later ones deserves attention."),
    "band_heading": ("抽样波动有多大", "How much sampling alone moves the ratio"),
    "band_intro": ("在参照水平 {reference} 下，仅凭抽样，95% 的单位的性别比会落在下表范围内。要让这一范围缩小到参照水平 ±1，"
                   "需要约 {needed:,.0f} 名出生。",
                   "At a reference level of {reference}, sampling alone puts 95% of units within these ranges. For the "
                   "range to shrink to ±1 around the reference takes about {needed:,.0f} births."),
    "compliance_heading": ("计划生育率的漏斗图", "Funnel plot of policy compliance"),
    "compliance_intro": ("同一方法适用于任何二项比率；这里以全部单位的合计比率 {target:.2f}% 为参照。",
                         "The same method serves any binomial rate; here the reference is the pooled rate of all units, {target:.2f}%."),
    "births_col": ("出生人数", "births"),
    "boys": ("男", "boys"),
    "girls": ("女", "girls"),
    "srb": ("性别比", "SRB"),
    "ci": ("95% 区间", "95% interval"),
    "q_value": ("q 值", "q-value"),
    "funnel_zone": ("漏斗区", "funnel zone"),
    "shrunk_srb": ("收缩估计", "shrunk estimate"),
    "shrunk_ci": ("收缩估计区间", "shrunk interval"),
    "zone_within": ("范围内", "within"),
    "zone_high_95": ("偏高（95%外）", "high (beyond 95%)"),
    "zone_high_998": ("偏高（99.8%外）", "high (beyond 99.8%)"),
    "zone_low_95": ("偏低（95%外）", "low (beyond 95%)"),
    "zone_low_998": ("偏低（99.8%外）", "low (beyond 99.8%)"),
    "order": ("孩次", "birth order"),
    "method_wilson": ("Wilson 区间", "Wilson interval"),
    "method_clopper_pearson": ("Clopper–Pearson 精确区间", "Clopper–Pearson exact interval"),
    "method_jeffreys": ("Jeffreys 区间", "Jeffreys interval"),
    "limits": ("控制限", "limits"),
    "target_line": ("参照水平", "reference level"),
    "funnel_x": ("分母（对数刻度）", "denominator (log scale)"),
    "funnel_x_srb": ("出生人数（对数刻度）", "births (log scale)"),
    "observed": ("观测值及 95% 区间", "observed, 95% interval"),
    "shrunk": ("经验贝叶斯估计及 95% 区间", "empirical-Bayes estimate, 95% interval"),
    "reference_line": ("参照 {value:g}", "reference {value:g}"),
    "srb_axis": ("出生人口性别比（女=100）", "sex ratio at birth (boys per 100 girls)"),
    "note": ("备注", "note"),
    "id": ("编号", "id"),
    "name": ("名称", "name"),
}


def check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"language must be 'zh' or 'en'; got {language!r}")
    return language


def t(key: str, language: str = "zh", **values) -> str:
    zh, en = TEXT[key]
    return (zh if check_language(language) == "zh" else en).format(**values)


def periods_text(periods: list, language: str = "zh") -> str:
    """How many periods, and their span, as a sentence says it: "1 period (2022)",
    "24 periods (2019-01 to 2020-12)"; ``periods`` in order."""
    if not periods:
        return t("periods_none", language)
    if len(periods) == 1:
        return t("periods_one", language, first=periods[0])
    return t("periods_span", language, n=len(periods), first=periods[0], last=periods[-1])


def units_text(n: int, level: str, language: str = "zh") -> str:
    """The noun after a count of units: "units", "village units" ("1 unit") in English
    (a level that is just "unit" is not said twice); the level's own word in Chinese."""
    name = level_name(level, language)
    if language == "zh":
        return name
    noun = "unit" if n == 1 else "units"
    return noun if level == "unit" else f"{name} {noun}"


def sheets_of(frame) -> list[str]:
    """The workbook sheets a canonical frame was read from, in the workbook's order."""
    if "sheet" not in getattr(frame, "columns", ()):
        return []
    return [str(s) for s in dict.fromkeys(frame["sheet"].dropna())]


def sheet_clause(sheets: list, language: str = "zh") -> str:
    """ "（工作表 2019）" / " (sheet 2019)", or "（全部 14 个工作表）" / " (all 14 sheets)"
    for a table stacked from several (listing them would bury the sentence); "" for none."""
    if not sheets:
        return ""
    if len(sheets) == 1:
        return t("sheet", language, sheet=sheets[0])
    return t("sheets_all", language, n=len(sheets))


def level_name(level: str, language: str = "zh") -> str:
    geo = geography_labels()
    if level in geo:
        return geo[level][language]
    return t(f"level_{level}", language)


def check_name(check: str, language: str = "zh") -> str:
    """A check's name for readers (``parts_do_not_add_up`` → 分项之和不等于合计 /
    parts do not add up); a check without a translation is spelt out in words, never
    shown as its code name."""
    key = f"checkname_{check}"
    return t(key, language) if key in TEXT else str(check).replace("_", " ")


def period_name(period: object, language: str = "zh") -> str:
    """A period for readers: the pooled period ``all`` in words, others as they are."""
    return t("period_all", language) if str(period) == "all" else str(period)


def column_label(column: str, language: str = "zh") -> str:
    """A canonical column's name for readers."""
    fields = count_fields()
    if column in fields:
        f = fields[column]
        return f.zh if language == "zh" else f.en
    if column in geography_labels():
        return level_name(column, language)
    if column.startswith("reported_"):
        from .registry import indicators

        ind = indicators().get(column[len("reported_"):])
        if ind is not None:
            return f"{ind.name(language)}（报告值）" if language == "zh" else f"{ind.name(language)} (reported)"
    if column in TEXT:
        return t(column, language)
    return column
