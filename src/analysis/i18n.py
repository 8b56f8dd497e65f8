"""User-facing text in Chinese and English; ``language`` is ``"zh"`` or ``"en"``."""

from __future__ import annotations

from .columns import count_fields, geography_labels

LANGUAGES = ("zh", "en")

TEXT: dict[str, tuple[str, str]] = {
    "title_indicators": ("人口与计划生育指标", "Population and family-planning indicators"),
    "data_heading": ("数据概况", "What the data holds"),
    "data_summary": ("文件 **{file}**{sheet}：{units} 个{level}，{periods} 个时期（{first} 至 {last}），"
                     "{rows} 行数据，另有 {totals} 行合计。",
                     "File **{file}**{sheet}: {units} {level} units, {periods} periods ({first} to {last}), "
                     "{rows} rows of figures, plus {totals} total rows."),
    "sheet": ("（工作表 {sheet}）", " (sheet {sheet})"),
    "columns_found": ("识别出的列", "Columns recognised"),
    "columns_summary": ("{n} 列已识别（点击展开）", "{n} columns recognised (click to open)"),
    "columns_ignored": ("未使用的列：{cols}。", "Columns not used: {cols}."),
    "load_notes": ("读取说明", "Notes from reading"),
    "missing_heading": ("缺失值", "Missing values"),
    "no_missing": ("没有缺失值。", "No missing values."),
    "missing_note": ("缺失的数按缺失处理，不当作 0；含缺失月份的合计也为缺失。",
                     "Missing figures stay missing, never zero; a sum over periods with a missing part is missing too."),
    "indicators_heading": ("指标", "Indicators"),
    "indicators_intro": ("按{level}、{grain}汇总：先把计数相加，再计算比率，从不平均比率。共 {n} 项指标。",
                         "Aggregated by {level} and {grain}: counts are summed first and the rates recomputed, "
                         "never averaged. {n} indicators."),
    "rounding_note": ("显示 {decimals} 位小数；舍入方式：{rounding}。", "Shown with {decimals} decimals; rounding: {rounding}."),
    "by_unit_heading": ("各单位比较", "Units compared"),
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
    "level_all": ("全部", "all"),
    "severity_error": ("错误", "error"),
    "severity_warning": ("警告", "warning"),
    "severity_info": ("提示", "info"),
    "definition": ("定义", "definition"),
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


def level_name(level: str, language: str = "zh") -> str:
    geo = geography_labels()
    if level in geo:
        return geo[level][language]
    return t(f"level_{level}", language)


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
