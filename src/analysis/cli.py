"""The ``workbench`` command: validate a table, write tables, make reports.

Every problem the user can fix ends in one line on stderr and a non-zero exit;
``--debug`` shows the traceback for anything else.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd

from .errors import WorkbenchError

EXIT_DATA = 2
EXIT_FAILED = 1


def _data_options(p: argparse.ArgumentParser, optional: bool = False) -> None:
    if optional:  # `report --list-parameters` needs no table
        p.add_argument("data", nargs="?", help="table of counts: CSV, XLSX, XLS, ODS or Parquet")
    else:
        p.add_argument("data", help="table of counts: CSV, XLSX, XLS, ODS or Parquet")
    p.add_argument("--sheet", help="sheet name, 0-based index, or 'all' to stack every sheet that holds the table "
                   "(default: the first sheet that holds a table)")
    p.add_argument("--columns", metavar="MAPPING",
                   help="column mapping: a file (YAML 'header: canonical' or CSV header,canonical) or "
                   "'header=canonical,#3=births' (#N is the N-th column, for blank headers)")
    p.add_argument("--period", help="period of a table that has no period column")
    p.add_argument("--unit-name", help="name of the one unit of a table without a unit column (default: the file name)")
    p.add_argument("--layout", choices=["long", "wide", "transposed", "series"],
                   help="override the layout the reader recognised")
    p.add_argument("--scale", default="", metavar="COL=FACTOR,...",
                   help="multiply columns printed in thousands or ten-thousands, e.g. population=10000")
    p.add_argument("--not-personal", action="append", default=[], metavar="COLUMN",
                   help="a column (header or #N) that holds no personal data, though the reader took it for "
                   "persons' names, dates or numbers (repeatable; README, Personal data)")


def _pairs(text: str, what: str) -> dict[str, str]:
    out = {}
    for item in filter(None, (x.strip() for x in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise WorkbenchError(f"{what}: {item!r} is not NAME=VALUE. Fix: write e.g. {what} population=10000")
        out[key.strip()] = value.strip()
    return out


def _columns(arg: str | None):
    if arg is None:
        return None
    if Path(arg).exists() or "=" not in arg:
        return arg
    return _pairs(arg, "--columns")


def _scale(arg: str) -> dict[str, float]:
    from .loading import parse_scale

    return parse_scale(arg)


def _load(args):
    from .loading import load

    return load(args.data, sheet=args.sheet, columns=_columns(args.columns), period=args.period,
                unit_name=args.unit_name, layout=args.layout, scale=_scale(args.scale),
                not_personal=getattr(args, "not_personal", None) or None)


def _duckdb_csv(frame: pd.DataFrame, path: str) -> None:
    """``frame`` as CSV by DuckDB's writer: 2.4 million indicator rows in 4 CPU-seconds,
    where ``DataFrame.to_csv`` takes twenty. The same text, but that true and false are
    lower-case and an empty text is written "" (a missing one stays an empty cell)."""
    from .engines.duck import connect

    con = connect()
    try:
        con.register("frame", frame)
        quoted = str(path).replace("'", "''")  # the folder is the user's: 'o''brien' is o'brien
        con.execute(f"COPY frame TO '{quoted}' (HEADER)")
    finally:
        con.close()


def _write_csv(frame: pd.DataFrame, out: str | None) -> None:
    from .writing import safe_cells

    frame = safe_cells(frame)
    if out is None:
        if not Path("/dev/stdout").exists():
            frame.to_csv(sys.stdout, index=False)
            return
        sys.stdout.flush()
        _duckdb_csv(frame, "/dev/stdout")
        return
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        body = f"{tmp}.body"
        try:
            _duckdb_csv(frame, body)
            with open(tmp, "wb") as sink, open(body, "rb") as source:
                sink.write("\ufeff".encode())  # BOM: opens correctly in spreadsheet programs
                shutil.copyfileobj(source, sink, 1 << 20)
        finally:
            Path(body).unlink(missing_ok=True)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    print(f"wrote {len(frame)} rows to {target}", file=sys.stderr)


# Headers of the columns that ``table`` writes and that are neither canonical columns nor
# indicators, for ``--labels``: (Chinese, English).
HEADERS = {
    "indicator": ("指标", "indicator"), "value": ("数值", "value"), "numerator": ("分子", "numerator"),
    "denominator": ("分母", "denominator"), "note_zh": ("说明", "note (Chinese)"), "note_en": ("说明（英文）", "note"),
    "message_zh": ("说明", "message (Chinese)"), "message_en": ("说明（英文）", "message"),
    "period_kind": ("时期类型", "kind of period"), "role": ("行的类别", "kind of row"), "source_row": ("原表行号", "row in the file"),
    "boys": ("男婴", "boys"), "girls": ("女婴", "girls"), "ci_low": ("区间下限", "interval, low"),
    "ci_high": ("区间上限", "interval, high"), "method": ("方法", "method"), "reference": ("参考值", "reference"),
    "p_value": ("p 值", "p-value"), "q_value": ("q 值", "q-value"), "p_band": ("p 值分档", "p-value band"),
    "q_band": ("q 值分档", "q-value band"), "funnel_zone": ("漏斗图区域", "funnel zone"),
    "shrunk_srb": ("经验贝叶斯估计", "empirical-Bayes estimate"), "shrunk_low": ("估计区间下限", "estimate, low"),
    "shrunk_high": ("估计区间上限", "estimate, high"), "scheme": ("考核方案", "scheme"), "total": ("总分", "total points"),
    "vetoed": ("一票否决", "vetoed"), "veto_reasons": ("否决原因", "veto reasons"), "score_low": ("得分下限", "score, low"),
    "score_high": ("得分上限", "score, high"), "rank_low": ("名次下限", "rank, best"), "rank_high": ("名次上限", "rank, worst"),
    "missing_zh": ("得分缺少的数据", "what the score lacks (Chinese)"),
    "missing_en": ("得分缺少的数据（英文）", "what the score lacks"),
    "item": ("考核项目", "item"), "rule": ("规则", "rule"), "observed": ("实际值", "observed"), "target": ("目标值", "target"),
    "points_lost": ("失分", "points lost"), "check": ("检查", "check"), "severity": ("严重程度", "severity"),
    "evidence": ("依据", "evidence"), "outcome": ("结果指标", "outcome"), "level": ("层级", "level"),
    "what": ("结果类型", "result"), "start": ("起", "from"), "end": ("止", "to"), "n_periods": ("时期数", "periods"),
    "apc": ("年变化百分比", "annual percent change"), "apc_low": ("年变化百分比下限", "APC, low"),
    "apc_high": ("年变化百分比上限", "APC, high"), "model": ("模型", "model"), "dispersion": ("离散度", "dispersion"),
    "joinpoints": ("连接点数", "joinpoints"), "bic": ("BIC", "BIC"), "break_at": ("断点", "break at"),
    "estimator": ("估计方法", "estimator"), "coefficient": ("系数", "coefficient"),
    "relative_time": ("相对时期", "periods from adoption"), "estimate": ("估计值", "estimate"), "se": ("标准误", "standard error"),
    "p": ("p 值", "p-value"), "clusters": ("聚类数", "clusters"), "note": ("说明", "note"),
}


def _header(column: str, language: str, extra: dict | None = None) -> str:
    """A column's header for people: a canonical column's or an indicator's name, else
    the table's own headers above, else the column's code name."""
    from .columns import count_fields
    from .i18n import TEXT, column_label
    from .registry import indicators

    if extra and column in extra:
        return extra[column]
    if column in count_fields() or column.startswith("reported_") or column in ("unit", "period"):
        return column_label(column, language)
    if column in indicators():
        return indicators()[column].name(language)
    if column in HEADERS:
        return HEADERS[column][0 if language == "zh" else 1]
    label = column_label(column, language)  # geography levels and the report's own words
    return label if label != column or column in TEXT else column


def _labelled(frame: pd.DataFrame, language: str, extra: dict | None = None) -> pd.DataFrame:
    """``frame`` with headers for people; a header that two columns would share keeps its
    code name in brackets, so that no column is lost to a reader or a spreadsheet."""
    headers = [_header(c, language, extra) for c in frame.columns]
    seen = {h: headers.count(h) for h in headers}
    headers = [h if seen[h] == 1 else f"{h} ({c})" for h, c in zip(headers, frame.columns)]
    return frame.set_axis(headers, axis=1)


def _wide(table: pd.DataFrame) -> pd.DataFrame:
    """``table indicators`` with one row per unit and period and a column per indicator
    (its value; numerators, denominators and notes stay in the long table), indicators
    in the registry's order."""
    from .registry import indicators

    keys = [c for c in table.columns if c not in ("indicator", "value", "numerator", "denominator", "note_zh",
                                                  "note_en")]
    if table.empty:
        return pd.DataFrame(columns=keys)
    wide = table.pivot_table(index=keys, columns="indicator", values="value", aggfunc="first", dropna=False,
                             sort=False)
    order = [i for i in indicators() if i in wide.columns] + [i for i in wide.columns if i not in indicators()]
    wide = wide[order].reset_index()
    wide.columns.name = None
    # only the unit-periods the long table had (pivot_table may cross the keys)
    present = table[keys].drop_duplicates()
    return present.merge(wide, on=keys, how="left")


# Columns of whole numbers that a blank turns into floats (1.0): written as whole numbers.
WHOLE_NUMBERS = ("source_row", "rank", "rank_low", "rank_high", "rank_before", "rank_after",
                 # the counts under a sex ratio at birth (`table srb`)
                 "boys", "girls")


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers as a reader writes them: row numbers, ranks and counts (births, the
    numerator and denominator of a rate) as whole numbers where every value is whole,
    so that a CSV says 1068, not 1068.0; a count holding a fraction (person-years, a
    scaled 万人 figure) keeps it."""
    from .columns import count_fields

    out = frame
    for column in (*WHOLE_NUMBERS, *count_fields(), "numerator", "denominator"):
        if column in out.columns and pd.api.types.is_float_dtype(out[column]):
            values = out[column]
            if ((values.dropna() % 1) == 0).all():
                out = out.assign(**{column: values.astype("Int64")})
    return out


def cmd_validate(args) -> int:
    from .checks import run_checks

    frame = _load(args)
    body = frame[~frame["is_total"]]
    a = frame.attrs
    from .columns import has_cjk

    # In the table's own language unless asked otherwise: Chinese headers get Chinese decisions.
    zh = args.language == "zh" if args.language else any(has_cjk(h) for h in a.get("mapping", {}))
    roles = frame["role"].value_counts()
    from .columns import key_columns

    n_units = len(body[key_columns(body)].drop_duplicates())  # the same name under two parents is two units
    if zh:
        print(f"{a['file']}：{len(body)} 行，{n_units} 个单位，{body['period'].nunique()} 个时期；"
              f"合计 {roles.get('total', 0)} 行，小计 {roles.get('subtotal', 0)} 行，“其中” {roles.get('of_which', 0)} 行")
    else:
        print(f"{a['file']}: {len(body)} rows, {n_units} units ({a['unit_level']}), "
              f"{body['period'].nunique()} periods; {roles.get('total', 0)} total, {roles.get('subtotal', 0)} subtotal, "
              f"{roles.get('of_which', 0)} \"of which\" rows")
    for d in a.get("decisions", []):
        print(f"  [{d['topic']}] {d['zh'] if zh else d['en']}")
    found = run_checks(frame)
    if not found.empty:
        print(f"{len(found)} findings (see `workbench table checks {args.data}`):")
        for _, f in found.head(10).iterrows():
            print(f"  [{f['severity']}] {f['unit']} {f['period']}: {f['message_en']}")
    return 0


def _table_frame(args):
    """The table to aggregate: loaded, or, for `table indicators` on a long file of more
    rows than memory serves comfortably, a scan that DuckDB reads itself."""
    engine = getattr(args, "engine", "auto")
    if args.what == "indicators" and engine in ("auto", "duckdb") and not (args.sheet or args.layout):
        from .engines.duck import STREAM_ROWS, estimated_rows, scan
        from .reading.limits import too_large_to_load

        if estimated_rows(Path(args.data)) >= STREAM_ROWS or too_large_to_load(Path(args.data)):
            print(f"workbench: {args.data} is large: read by DuckDB without loading it (see README, Large tables) / "
                  "表很大：由 DuckDB 直接读取，不整表载入", file=sys.stderr)
            return scan(args.data, columns=_columns(args.columns), period=args.period, unit_name=args.unit_name,
                        scale=_scale(args.scale), not_personal=args.not_personal or None)
    return _load(args)


def cmd_table(args) -> int:
    if args.wide and args.what != "indicators":
        raise WorkbenchError(f"--wide applies to `table indicators` (one long row per indicator); `table {args.what}` "
                             "has no indicators to turn into columns / --wide 只用于 table indicators")
    frame = _table_frame(args)
    extra: dict = {}
    engine = getattr(args, "engine", "auto")
    if args.what == "tidy":
        out = frame.drop(columns=["is_total"])
    elif args.what == "indicators":
        from .indicators import indicator_table

        out = indicator_table(frame, level=args.level, periods=args.periods, period_range=args.period_range,
                              rounding=args.rounding, decimals=args.decimals, engine=engine)
        if out.empty:
            # a header alone would look like a failure: say what the indicators need
            print("workbench: no indicator can be computed from this table: every one needs a numerator and a "
                  "denominator it lacks (crude rates need population; see README, Indicators) / "
                  "本表无法计算任何指标：缺少分子或分母（例如出生率需要总人口）", file=sys.stderr)
    elif args.what == "scores":
        from . import scoring

        if not args.scheme:
            raise WorkbenchError("table scores needs --scheme NAME|PATH (see `workbench scheme list`)")
        scheme = scoring.load_scheme(args.scheme)
        result = scoring.score(frame, scheme, level=args.level, periods=args.periods, period_range=args.period_range,
                               what_if=args.what_if)
        out = result.totals
        tiers = {f"p_tier_{tier['id']}": f"P({tier.get('name_zh' if args.labels == 'zh' else 'name_en', tier['id'])})"
                 for tier in scheme.tiers}
        extra.update(tiers if args.labels else {})
        if args.bootstrap:
            boot = scoring.bootstrap(frame, scheme, level=args.level, periods=args.periods,
                                     period_range=args.period_range, replicates=args.bootstrap, what_if=args.what_if)
            out = out.merge(boot, on=[c for c in out.columns if c in boot.columns], how="left")
        if args.reasons:
            reasons = _plain(result.reasons)
            _write_csv(_labelled(reasons, args.labels) if args.labels else reasons, args.reasons)
    elif args.what == "effects":
        out = _effects(frame, args)
    elif args.what == "srb":
        from .sex_ratio import srb_table

        ref = _reference(args)
        print(f"reference sex ratio at birth: {ref}", file=sys.stderr)
        out = srb_table(frame, level=args.level, periods=args.periods, period_range=args.period_range,
                        reference=ref, method=args.method, engine=engine)
    elif args.what == "trends":
        out = _trends(frame, args)
    else:
        from . import scoring
        from .checks import run_checks

        out = run_checks(frame, scheme=scoring.load_scheme(args.scheme) if args.scheme else None)
        import json

        from .formatting import json_safe

        # JSON that any tool reads back (numbers as numbers, an infinite ratio as "inf"), not Python's repr
        out["evidence"] = out["evidence"].map(lambda e: json.dumps(json_safe(e), ensure_ascii=False))
    if args.wide:
        out = _wide(out)
    out = _plain(out)
    if args.labels:
        out = _labelled(out, args.labels, extra)
    _write_csv(out, args.output)
    return 0


def _trends(frame, args) -> pd.DataFrame:
    from .trends import trend_table

    span = None
    if args.aapc:
        lo, _, hi = args.aapc.partition(":")
        try:
            span = (float(lo), float(hi))
        except ValueError:
            raise WorkbenchError(f"--aapc {args.aapc!r} is not FROM:TO. Fix: write e.g. --aapc 2000:2023") from None
    joins = args.joinpoints if args.joinpoints == "auto" else int(args.joinpoints)
    return trend_table(frame, args.outcome or None, level=args.level, periods=args.periods,
                       period_range=args.period_range, break_at=args.break_at, max_joinpoints=joins,
                       method=args.joinpoint_method, aapc_span=span)


def _effects(frame, args) -> pd.DataFrame:
    """`table effects`: difference-in-differences and event studies of one outcome."""
    from .effects import policy_effects
    from .effects.texts import both

    if len(args.outcome) != 1:
        raise WorkbenchError("table effects needs one --outcome ID (an indicator id or a count column) / "
                             "需要一个 --outcome 指标编号或计数列")
    treated = [u for u in (args.treated or "").split(",") if u.strip()]
    out = policy_effects(frame, args.outcome[0], treatment=args.treatment, treatment_date=args.treatment_date,
                         treated=treated, level=args.level, periods=args.periods, period_range=args.period_range,
                         weighted=args.weighted, placebo_shift=args.placebo_shift)
    if out.attrs.get("reason"):
        print(f"workbench: {both(out.attrs['reason'])}", file=sys.stderr)
    if out.attrs.get("manipulable"):
        print(f"workbench: {out.attrs['manipulable']['both']}", file=sys.stderr)
    return out


def _reference(args):
    """The reference of `table srb`: the default, with its range and source, unless the
    user gives another value, a range or a source; then only what the user gave (a
    value without a source is "given by the user")."""
    from .sex_ratio import DEFAULT_REFERENCE, Reference

    value = DEFAULT_REFERENCE.value if args.reference is None else args.reference
    given = (args.reference_low, args.reference_high, args.reference_source)
    if value == DEFAULT_REFERENCE.value and all(g is None for g in given):
        return DEFAULT_REFERENCE
    try:
        return Reference(value, *given)
    except ValueError as exc:
        raise WorkbenchError(f"--reference: {exc}") from None


def cmd_scheme_list(args) -> int:
    from . import scoring

    for name in scoring.list_schemes():
        scheme = scoring.load_scheme(name)
        print(f"{name}\t{scheme.scale:g} points\t{scheme.name_zh} / {scheme.name_en}\t{scheme.source}")
    return 0


def cmd_scheme_validate(args) -> int:
    from . import scoring

    if not args.all and not args.scheme:
        raise WorkbenchError("name a scheme (or a scheme file), or give --all")
    names = scoring.list_schemes() if args.all else [args.scheme]
    found = 0
    for name in names:
        scheme = scoring.load_scheme(name)
        problems = scoring.validate(scheme)
        found += len(problems)
        print(f"{scheme.id}: {len(problems)} problem(s)")
        for p in problems:
            print(f"  [{p.kind}] {p.message(args.language)}")
    return 1 if found else 0


def _report_inputs(args, command: str) -> tuple[list[Path], dict, object]:
    """Notebooks, parameters and column mapping of ``report`` and ``batch``, each refused
    in one line before any kernel starts."""
    from .paths import notebooks_dir
    from .reports import default_notebooks, parse_parameters

    notebooks = [Path(n) if Path(n).exists() else notebooks_dir() / n for n in args.notebook] or default_notebooks()
    missing = [str(n) for n in notebooks if not Path(n).exists()]
    if missing:
        raise WorkbenchError(f"no such notebook: {', '.join(missing)}")
    params = parse_parameters(args.parameter, notebooks)
    columns = _columns(args.columns)
    if isinstance(columns, dict):
        raise WorkbenchError(f"{command}: --columns takes a mapping file here (the notebooks read it). "
                             "Fix: write the pairs into a YAML file, one 'header: canonical' per line")
    _scale(args.scale)  # refuse a malformed --scale before any kernel starts
    return notebooks, params, columns


def _list_parameters(args) -> int:
    """`report --list-parameters`: every notebook's parameters, with type, default and
    help, grouped by notebook; the parameters the command sets itself are marked."""
    from .paths import notebooks_dir
    from .reports import DATA_PARAMETERS, declared_parameters, default_notebooks

    notebooks = [Path(n) if Path(n).exists() else notebooks_dir() / n for n in args.notebook] or default_notebooks()
    missing = [str(n) for n in notebooks if not Path(n).exists()]
    if missing:
        raise WorkbenchError(f"no such notebook: {', '.join(missing)} / 没有这个笔记本")
    print("notebook parameters, set with -p NAME=VALUE / 笔记本参数，用 -p 名称=值 设置")
    print(f"(the command sets {', '.join(DATA_PARAMETERS)} itself from the data file and --sheet, --columns, "
          "--period, --unit-name, --layout, --scale / 这些参数由命令根据数据文件和选项设置)")
    for nb in notebooks:
        print(f"\n{Path(nb).name}")
        for name, spec in declared_parameters(Path(nb)).items():
            if name not in DATA_PARAMETERS:
                kind = spec["type"].replace("typing.", "")
                print(f"  {name} ({kind}, default {spec['default']}): {spec['help']}")
    return 0


class _Progress:
    """What `report` is doing, one line on stderr when a notebook starts and one with its
    time when it ends (``03-assessment … 2.9 s``). The kernels' own chatter is sent to a
    log while they run, by pointing file descriptor 2 there: these lines go to a copy of
    the stderr the command started with."""

    def __init__(self) -> None:
        import threading
        import time

        self.clock, self.started, self.lock = time.monotonic, {}, threading.Lock()
        try:
            sys.stderr.flush()
            self.out = os.fdopen(os.dup(sys.stderr.fileno()), "w", encoding="utf-8", errors="replace")
            self.own = True
        except (AttributeError, OSError, ValueError):  # a stderr without a file descriptor
            self.out, self.own = sys.stderr, False

    def __call__(self, notebook: str, event: str) -> None:
        stem = Path(notebook).stem
        with self.lock:  # two kernels may report at once
            if event == "start":
                self.started[stem] = self.clock()
                line = f"{stem} …"
            else:
                took = self.clock() - self.started.get(stem, self.clock())
                line = f"{stem} {took:.1f} s" + ("" if event == "finish" else " failed / 失败")
            print(line, file=self.out, flush=True)

    def close(self) -> None:
        if self.own:
            self.out.close()


def cmd_report(args) -> int:
    from .reports import make_report

    if args.list_parameters:
        return _list_parameters(args)
    if not args.data:
        raise WorkbenchError("report needs a table: workbench report DATA [-o FOLDER] (or --list-parameters) "
                             "/ 请给出数据表")
    notebooks, params, columns = _report_inputs(args, "report")
    _check_settings(params)
    progress = _Progress()
    try:
        facts = make_report(args.data, args.output, params, sheet=args.sheet, columns=columns, notebooks=notebooks,
                            period=args.period, unit_name=args.unit_name, layout=args.layout, scale=args.scale,
                            progress=progress, not_personal=args.not_personal or None)
    finally:
        progress.close()
    for rec in facts["notebooks"]:
        print(Path(args.output) / rec["html"])
    # last, so that it is the line to open
    print(Path(args.output) / facts["index"])
    return 0


def _check_settings(params: dict) -> None:
    """Refuse the assessment's sensitivity settings out of range before any kernel starts
    (the notebook refuses them too, later and inside a failed notebook)."""
    names = ("sensitivity_shift", "sensitivity_weight_shift", "sensitivity_runs")
    if any(n in params for n in names):
        from .scoring import check_sensitivity

        check_sensitivity(params.get(names[0], 2.0), params.get(names[1], 0.1), params.get(names[2], 100))


def cmd_verify(args) -> int:
    from .reports import git_commit
    from .verify import read_run, verify

    made_with = read_run(args.folder).get("git_commit")
    now = git_commit()
    if made_with and now and made_with != now:
        # a different code version may differ for good reasons: say so before the verdict
        print(f"note: the report was made with commit {made_with}, re-run with {now} "
              f"/ 注意：报告由提交 {made_with} 生成，现用 {now} 重新运行", file=sys.stderr)
    differences, facts = verify(args.folder, keep=args.keep)
    if not differences:
        print(f"no differences: {len(facts['notebooks'])} notebook(s) re-run from run.json show the same tables and "
              f"figures / 没有差异：按 run.json 重新运行的 {len(facts['notebooks'])} 个笔记本得到相同的表和图")
        return 0
    for d in differences:
        print(d.message())
    print(f"{len(differences)} difference(s) / 共 {len(differences)} 处差异")
    return EXIT_FAILED


def cmd_batch(args) -> int:
    from .batch import plan, run_batch, summary_line

    if args.jobs < 1:
        raise WorkbenchError("--jobs must be 1 or more / --jobs 至少为 1")
    notebooks, params, columns = _report_inputs(args, "batch")
    _check_settings(params)
    reading = {"sheet": args.sheet, "columns": columns, "period": args.period, "unit_name": args.unit_name,
               "layout": args.layout, "scale": args.scale, "not_personal": args.not_personal or None}
    jobs = plan(args.data, args.output, params, reading=reading,
                notebooks=notebooks if args.notebook else None)
    outcomes = run_batch(jobs, args.output, workers=args.jobs, scheduler=args.scheduler, force=args.force,
                         progress=not args.quiet)
    print(summary_line(outcomes, args.output), file=sys.stderr)
    return EXIT_FAILED if any(o.status == "failed" for o in outcomes) else 0


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .indicators import GRAINS, LEVELS, ROUNDING
    from .sex_ratio import DEFAULT_REFERENCE, METHODS
    from .trends.joinpoint import DEFAULT_METHOD as DEFAULT_JOINPOINT_METHOD
    from .trends.joinpoint import METHODS as JOINPOINT_METHODS

    parser = argparse.ArgumentParser(prog="workbench", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of unexpected errors")
    sub = parser.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="read a table and say how it was read and what was found in it")
    _data_options(v)
    v.add_argument("--language", default=None, choices=["zh", "en"],
                   help="language of the decisions shown (default: the table's, Chinese for Chinese headers)")
    v.set_defaults(func=cmd_validate)

    t = sub.add_parser("table", help="write a table as CSV")
    t.add_argument("what", choices=["tidy", "indicators", "srb", "scores", "checks", "trends", "effects"],
                   help="tidy: the table as read, one row per unit and period (what every other command reads)")
    _data_options(t)
    t.add_argument("-o", "--output", help="CSV file to write (default: standard output)")
    t.add_argument("--wide", action="store_true",
                   help="indicators: one row per unit and period with a column per indicator, instead of a row per "
                   "indicator / 每个单位·时期一行，每个指标一列")
    t.add_argument("--labels", choices=["zh", "en"],
                   help="column headers for people in Chinese or English instead of code names (a file to read "
                   "back into the workbench keeps the code names) / 列名用中文或英文")
    t.add_argument("--level", default="unit", choices=LEVELS)
    t.add_argument("--periods", default="as_is", choices=GRAINS, help="period grain (default: as given)")
    t.add_argument("--period-range", default="", help='"FROM:TO" or "2019,2020"')
    t.add_argument("--rounding", default="none", choices=ROUNDING)
    t.add_argument("--decimals", type=int, default=2)
    t.add_argument("--engine", default="auto", choices=["auto", "pandas", "duckdb", "dask"],
                   help="indicators, srb: what sums the counts (default auto: DuckDB for large tables, and for "
                   "`table indicators` on a file of millions of rows without loading it) / 汇总引擎")
    ref = DEFAULT_REFERENCE
    t.add_argument("--reference", type=float, default=None,
                   help=f"srb: reference sex ratio at birth (default {ref}); another value is "
                   "'given by the user' unless --reference-source says where it comes from")
    t.add_argument("--reference-low", type=float, default=None, help="srb: lower end of the reference's range")
    t.add_argument("--reference-high", type=float, default=None, help="srb: upper end of the reference's range")
    t.add_argument("--reference-source", default=None, help="srb: where the reference comes from")
    t.add_argument("--method", default="wilson", choices=list(METHODS), help="srb: interval method")
    t.add_argument("--scheme", help="scores: a bundled scheme's id or a scheme file; checks: "
                   "also test whether units pile up just past its targets")
    t.add_argument("--what-if", default="", help='scores: changed targets, e.g. "policy_births.target=90"')
    t.add_argument("--bootstrap", type=int, default=0, metavar="N",
                   help="scores: add score and rank intervals from N bootstrap replicates")
    t.add_argument("--reasons", metavar="CSV", help="scores: also write every point lost, with its reason, here")
    t.add_argument("--outcome", action="append", default=[], metavar="ID",
                   help="trends: indicator id, births/deaths, or a reported_* column (repeatable; default: all); "
                   "effects: the one outcome (an indicator id or a count column such as births_health)")
    t.add_argument("--break", dest="break_at", type=float, default=None, metavar="YEAR",
                   help="trends: test a change of slope at this date (years, e.g. 2016)")
    t.add_argument("--joinpoints", default="auto", choices=["auto", "0", "1", "2", "3"],
                   help="trends: number of joinpoints (auto: chosen up to 3)")
    t.add_argument("--joinpoint-method", default=DEFAULT_JOINPOINT_METHOD, choices=list(JOINPOINT_METHODS),
                   help="trends: how auto chooses the number of joinpoints: bic3 (default; fewest false "
                   "joinpoints of the fast ones), wbic (Joinpoint 5's default), bic, or the slow permutation test")
    t.add_argument("--aapc", default="", metavar="FROM:TO", help="trends: also the AAPC over this span, e.g. 2000:2023")
    e = t.add_argument_group("effects", "policy effects: difference-in-differences and event studies / 政策效应")
    e.add_argument("--treatment", metavar="COLUMN", help="effects: column with 0/1 per unit-period or each unit's "
                   "adoption period")
    e.add_argument("--treatment-date", metavar="PERIOD", help="effects: adoption period of the --treated units, "
                   "e.g. 2019-07")
    e.add_argument("--treated", metavar="U1,U2", help="effects: treated units, comma-separated")
    e.add_argument("--weighted", action="store_true", help="effects: weight by the outcome's denominator "
                   "(person-years for crude rates)")
    e.add_argument("--placebo-shift", type=int, default=2, help="effects: periods the placebo adoption moves "
                   "earlier (default 2)")
    t.set_defaults(func=cmd_table)

    s = sub.add_parser("scheme", help="list or check assessment schemes")
    s_sub = s.add_subparsers(dest="scheme_command", required=True)
    s_sub.add_parser("list", help="name the bundled schemes").set_defaults(func=cmd_scheme_list)
    sv = s_sub.add_parser("validate", help="say what does not add up in a scheme")
    sv.add_argument("scheme", nargs="?", help="a bundled scheme's id or a scheme file")
    sv.add_argument("--all", action="store_true", help="check every bundled scheme")
    sv.add_argument("--language", default="en", choices=["zh", "en"])
    sv.set_defaults(func=cmd_scheme_validate)

    r = sub.add_parser("report", help="run the notebooks and write HTML reports")
    _data_options(r, optional=True)
    r.add_argument("--list-parameters", action="store_true",
                   help="print every notebook's parameters (type, default, help) and exit; needs no table "
                   "/ 列出各笔记本的参数")
    r.add_argument("-o", "--output", default="reports/latest", help="folder for the report (default: reports/latest)")
    r.add_argument("-p", "--parameter", action="append", default=[], metavar="NAME=VALUE",
                   help="notebook parameter, e.g. -p language=en -p level=township")
    r.add_argument("--notebook", action="append", default=[], help="run only this notebook (repeatable)")
    r.set_defaults(func=cmd_report)

    vf = sub.add_parser("verify", help="re-run a report folder from its run.json and list any difference in its "
                        "tables or figures (exit 0: none, 1: some, 2: cannot verify)")
    vf.add_argument("folder", help="a folder written by `workbench report` (holds run.json)")
    vf.add_argument("--keep", metavar="DIR", help="keep the re-run in DIR instead of a temporary folder")
    vf.set_defaults(func=cmd_verify)

    b = sub.add_parser("batch", help="a report for each of many tables, and an index page / 批量报告")
    b.add_argument("data", nargs="+", help="tables of counts, one report each (a workbook with --sheet all is one)")
    b.add_argument("--sheet", help="sheet of every workbook: name, 0-based index, or 'all' (default: the first "
                   "sheet that holds a table)")
    b.add_argument("--columns", metavar="MAPPING", help="column-mapping file for every table")
    b.add_argument("--period", help="period of tables that have no period column")
    b.add_argument("--unit-name", help="name of the one unit of tables without a unit column")
    b.add_argument("--layout", choices=["long", "wide", "transposed", "series"],
                   help="override the layout the reader recognised")
    b.add_argument("--scale", default="", metavar="COL=FACTOR,...", help="e.g. population=10000")
    b.add_argument("--not-personal", action="append", default=[], metavar="COLUMN",
                   help="a column (header or #N) of every table that holds no personal data, though the reader "
                   "took it for persons' data (repeatable; README, Personal data)")
    b.add_argument("-o", "--output", required=True, help="folder for the reports: one subfolder per table and index.html")
    b.add_argument("-p", "--parameter", action="append", default=[], metavar="NAME=VALUE",
                   help="notebook parameter for every table, e.g. -p language=en")
    b.add_argument("--notebook", action="append", default=[], help="run only this notebook (repeatable)")
    b.add_argument("-j", "--jobs", type=int, default=max(1, min(4, os.cpu_count() or 1)),
                   help="worker processes, one kernel each (default: the cores, at most 4)")
    b.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run the reports on this Dask distributed scheduler instead (README, Batch)")
    b.add_argument("--force", action="store_true", help="make again reports that are finished and unchanged")
    b.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    b.set_defaults(func=cmd_batch)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except WorkbenchError as exc:
        print(f"workbench: error: {exc}", file=sys.stderr)
        return EXIT_DATA
    except ValueError as exc:  # a bad choice passed through from the package
        print(f"workbench: error: {exc}", file=sys.stderr)
        return EXIT_DATA
    except BrokenPipeError:  # output piped into `head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(f"workbench: unexpected error: {type(exc).__name__}: {exc} (run with --debug for details)",
              file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
