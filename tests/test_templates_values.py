"""Go values for templates: fmt printing, time values and Alertmanager's template Data.

The expected strings in the tables were printed by amtool 0.25 (Go 1.19); the tests marked
``amtool`` render the same tables through amtool again when it is installed.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from alertrouter.templates.data import (
    KV,
    Alert,
    Alerts,
    Data,
    Pair,
    Pairs,
    WebhookDataError,
    amtool_default_data,
    data_from_webhook,
)
from alertrouter.templates.gofmt import (
    format_float,
    format_value,
    go_type_name,
    quote,
    sprint,
    sprintf,
    sprintln,
)
from alertrouter.templates.gotime import (
    GoDuration,
    GoTime,
    load_location,
    parse_rfc3339,
    parse_time,
)
from templates_amtool import DATA_DIR, amtool_render, amtool_render_many, needs_amtool

SHARED_FIXTURES = Path(__file__).parent / "fixtures" / "alertmanager"
DATA_FILES = sorted(DATA_DIR.glob("*.json"))

PRINTF_CASES: list[tuple[str, tuple[Any, ...], str]] = [
    (
        "%+v|%+d|%05s|%-05d|%+.3v|%x|%#v|%#x|%X|% x|%#o|%O|%c|%q|%U|%#U",
        (5, 5, "ab", 3, 3.14159, "hi", "hi", 255, -255, "hi", 8, 8, 65, 65, 65, 65),
        "5|+5|000ab|3    |3.14|6869|\"hi\"|0xff|-FF|68 69|010|0o10|A|'A'|U+0041|U+0041 'A'",
    ),
    (
        "%v %v %v %v %v %v %.3g %#g %#.3x %x %b %e %G %8.2f|%-8.2f|%08.2f|%+08.2f|% f|%#v",
        (
            1000000.0,
            100000.0,
            123456789.0,
            1e-05,
            0.0001,
            1e21,
            100000.0,
            1.0,
            1.5,
            1.0,
            1.0,
            1234.5678,
            1e-10,
            3.14159,
            3.14159,
            -3.14159,
            3.14159,
            1.0,
            1.0,
        ),
        "1e+06 100000 1.23456789e+08 1e-05 0.0001 1e+21 1e+05 1.00000 0x1.800p+00 0x1p+00 4503599627370496p-52 1.234568e+03 1E-10     3.14|3.14    |-0003.14|+0003.14| 1.000000|1",  # noqa: E501
    ),
    ("%d %s", ("hi",), "%!d(string=hi) %!s(MISSING)"),
    ("%d", (1, 2, "x"), "1%!(EXTRA int=2, string=x)"),
    ("%[2]d %[1]d %[3]d", (1, 2), "2 1 %!d(BADINDEX)"),
    ("%*d|%-*d|%.*f|%", (5, 1, 5, 1, 2, 3.14159), "    1|1    |3.14|%!(NOVERB)"),
    ("%!", (), "%!!(MISSING)"),
    ("%.0d|%5.0d|", (0, 0), "|     |"),
    ("%t %v %s %d", (True, False, None, None), "true false %!s(<nil>) %!d(<nil>)"),
    (
        "%g %g %g %G %.2e %.0f %.0f %.0f %5.1f%%",
        (0.1, -0.0, 1e100, 1e-07, 12345.678, 0.5, 1.5, 2.5, 99.95),
        "0.1 -0 1e+100 1E-07 1.23e+04 0 2 2 100.0%",
    ),
    (
        "%x %X %o %b %#b %08.3d %+.3d % d %-8x| %08d %+08d %-+8d|",
        (-255, 3054, 64, 5, 5, 42, 42, 42, 255, -42, 42, 42),
        "-ff BEE 100 101 0b101      042 +042  42 ff      | -0000042 +0000042 +42     |",
    ),
    (
        "%q %+q %#q %#q %x % X %#x %.2s %.1q %10.3s|%-10s|",
        ('héllo\n"', "héllo", "a`b", "ab", "héllo", "hi", "hi", "héllo", "héllo", "abcdef", "ab"),
        '"héllo\\n\\"" "h\\u00e9llo" "a`b" `ab` 68c3a96c6c6f 68 69 0x6869 hé "h"        abc|ab        |',  # noqa: E501
    ),
    (
        "%c %c %q %U %#U %c %d",
        (128512, 233, 128512, 128512, 128512, -1, True),
        "😀 é '😀' U+1F600 U+1F600 '😀' � %!d(bool=true)",
    ),
    ("%s %v %d", (1.5, ["a", "b"], ["a"]), "%!s(float64=1.5) [a b] [%!d(string=a)]"),
    (
        "%6.2v|%-6v|%06v|%6v|%x|%X|%#.4g|%#.0f|%#e|%#.0e|%.3x",
        (3.14159, 1.5, -1.5, "ab", 3.5, -1.0, 1.0, 2.0, 1.0, 5.0, 1.0),
        "   3.1|1.5   |-001.5|    ab|0x1.cp+01|-0X1P+00|1.000|2.|1.000000e+00|5.e+00|0x1.000p+00",
    ),
    ("%v %v %b %x", (-1e-320, 5e-324, 5e-324, 5e-324), "-1e-320 5e-324 1p-1074 0x1p-1074"),
    ("%-08f|% 08.2f|%+.1e", (-1.0, 2.5, 0.0), "-1.000000| 0002.50|+0.0e+00"),
    (
        "%[1]*[2]d|%[3]d %d|%[0]d|%[x]d|%[5]d|%.[2]d",
        (4, 7, 9, 10),
        "   7|9 10|%!d(BADINDEX)|%!d(BADINDEX)|%!d(BADINDEX)|7",
    ),
    (
        "%.3v|%.10v|%8.3v|%v|%v",
        ("abcdef", 123456789.0, 1234.5678, 123456.0, 1234567.0),
        "abc|123456789|1.23e+03|123456|1.234567e+06",
    ),
    (
        "%5t|%-7t|%q|%#v|%T %T %T",
        (True, False, True, True, 1, "s", 1.0),
        " true|false  |%!q(bool=true)|true|int string float64",
    ),
    ("%v|%s|%d", (1e-06, 100, 1e20), "1e-06|%!s(int=100)|%!d(float64=1e+20)"),
    ("%z %!d %&", (1, 2, 3), "%!z(int=1) %!!(int=2)d %!&(int=3)"),
    ("%v|%s|%q|%x", (1.0, "ünï", "tab\there", "ÿ"), '1|ünï|"tab\\there"|c3bf'),
    (
        "%6.3v|%-10.4q|%+q|%#q",
        ("abcdefgh", "abcdefgh", "日本", "日本"),
        '   abc|"abcd"    |"\\u65e5\\u672c"|`日本`',
    ),
    ("%3c|%-4c|%U|%#U|%q", (66, 66, 128169, 128169, 10), "  B|B   |U+1F4A9|U+1F4A9 '💩'|'\\n'"),
    (
        "%.2f %.2f %.2f %.1f %.0e",
        (2.675, 1.005, -0.125, 0.05, 15000.0),
        "2.67 1.00 -0.12 0.1 2e+04",
    ),
    (
        "%g %g %g %g %g",
        (0.0001, 1e-05, 123456.0, 1234567.0, 1.2345e-05),
        "0.0001 1e-05 123456 1.234567e+06 1.2345e-05",
    ),
    (
        "%.3g %.10g %.1g %.0g %G",
        (1234.5678, 0.3333333333333333, 0.15, 2.5, 1e-20),
        "1.23e+03 0.3333333333 0.1 2 1E-20",
    ),
    (
        "%5.1s|%05d|%-+5d|%x|%X|%o|%b",
        ("xyz", -12, 7, 3.0, "ÿ", -8, -5),
        "    x|-0012|+7   |0x1.8p+01|C3BF|-10|-101",
    ),
    (
        "%d %d %s",
        (9223372036854775807, -9223372036854775807, True),
        "9223372036854775807 -9223372036854775807 %!s(bool=true)",
    ),
    (
        "%08.3f|%+.2e|%#.3g|%#x|%#o|% x",
        (-3.14159, 12345.678, 2.0, -255, 0, -255),
        "-003.142|+1.23e+04|2.00|-0xff|0|-ff",
    ),
    ("%v %d %s", (None, None, None), "<nil> %!d(<nil>) %!s(<nil>)"),
    ("%[2]*[1]d|%-[3]*d|%[1]v %v", (7, 5, 3), "    7|%!d(MISSING)|7 5"),
    ("%.[1]f", (3.5,), "4"),
    ("100%% %d%%", (5,), "100% 5%"),
    ("%s %v", ("", ""), " "),
    ("no verbs", ("a", 1), "no verbs%!(EXTRA string=a, int=1)"),
    ("%v", (), "%!v(MISSING)"),
]


# (alert index, field, RFC 3339 stamp in offsets.json, layout, Go's output)
FORMAT_CASES: list[tuple[int, str, str, str, str]] = [
    (
        0,
        "StartsAt",
        "2026-03-29T01:59:59.123456789+02:00",
        "2006-01-02T15:04:05Z07:00",
        "2026-03-29T01:59:59+02:00",
    ),
    (
        0,
        "StartsAt",
        "2026-03-29T01:59:59.123456789+02:00",
        "2006-01-02T15:04:05.999999999Z07:00",
        "2026-03-29T01:59:59.123456789+02:00",
    ),
    (
        0,
        "StartsAt",
        "2026-03-29T01:59:59.123456789+02:00",
        "Mon Jan _2 15:04:05 MST 2006",
        "Sun Mar 29 01:59:59 +0200 2026",
    ),
    (
        0,
        "StartsAt",
        "2026-03-29T01:59:59.123456789+02:00",
        "Monday, 02-Jan-06 15:04:05 MST",
        "Sunday, 29-Mar-26 01:59:59 +0200",
    ),
    (0, "StartsAt", "2026-03-29T01:59:59.123456789+02:00", "3:04PM", "1:59AM"),
    (0, "StartsAt", "2026-03-29T01:59:59.123456789+02:00", "03:04:05 pm", "01:59:59 am"),
    (
        0,
        "StartsAt",
        "2026-03-29T01:59:59.123456789+02:00",
        "Jan 2, 2006 at 3:04pm (MST)",
        "Mar 29, 2026 at 1:59am (+0200)",
    ),
    (
        0,
        "StartsAt",
        "2026-03-29T01:59:59.123456789+02:00",
        "2006-01-02T15:04:05.000Z0700",
        "2026-03-29T01:59:59.123+0200",
    ),
    (
        0,
        "StartsAt",
        "2026-03-29T01:59:59.123456789+02:00",
        ".000 .999 ,000 ,999 .0 .9 .000000 .999999999",
        ".123 .123 ,123 ,123 .1 .1 .123456 .123456789",
    ),
    (
        0,
        "StartsAt",
        "2026-03-29T01:59:59.123456789+02:00",
        "Z07 -07 Z07:00:00 -07:00:00 Z070000 -070000 -0700 -07:00",
        "+02 +02 +02:00:00 +02:00:00 +020000 +020000 +0200 +02:00",
    ),
    (
        0,
        "StartsAt",
        "2026-03-29T01:59:59.123456789+02:00",
        "002 __2 _2 2 1 01 06 2006 _2006",
        "088  88 29 29 3 03 26 2026 _2026",
    ),
    (
        0,
        "StartsAt",
        "2026-03-29T01:59:59.123456789+02:00",
        "January Janu Jan Monday Mond Mon MST",
        "March Janu Mar Sunday Mond Sun +0200",
    ),
    (
        0,
        "StartsAt",
        "2026-03-29T01:59:59.123456789+02:00",
        "15 3 03 4 04 5 05 PM pm",
        "01 1 01 59 59 59 59 AM am",
    ),
    (
        0,
        "StartsAt",
        "2026-03-29T01:59:59.123456789+02:00",
        "Date: 2006/1/2 Time: 15h04",
        "Date: 2026/3/29 Time: 01h59",
    ),
    (0, "StartsAt", "2026-03-29T01:59:59.123456789+02:00", "12345", "32915959"),
    (
        0,
        "StartsAt",
        "2026-03-29T01:59:59.123456789+02:00",
        ".00a .99 .0009 ,9x",
        ".12a .12 .0009 ,1x",
    ),
    (
        0,
        "StartsAt",
        "2026-03-29T01:59:59.123456789+02:00",
        "02 Jan 06 15:04 -0700",
        "29 Mar 26 01:59 +0200",
    ),
    (0, "StartsAt", "2026-03-29T01:59:59.123456789+02:00", "", ""),
    (
        1,
        "StartsAt",
        "2025-12-31T23:00:00.5-05:30",
        "2006-01-02T15:04:05Z07:00",
        "2025-12-31T23:00:00-05:30",
    ),
    (
        1,
        "StartsAt",
        "2025-12-31T23:00:00.5-05:30",
        "2006-01-02T15:04:05.999999999Z07:00",
        "2025-12-31T23:00:00.5-05:30",
    ),
    (
        1,
        "StartsAt",
        "2025-12-31T23:00:00.5-05:30",
        "Mon Jan _2 15:04:05 MST 2006",
        "Wed Dec 31 23:00:00 -0530 2025",
    ),
    (
        1,
        "StartsAt",
        "2025-12-31T23:00:00.5-05:30",
        "Monday, 02-Jan-06 15:04:05 MST",
        "Wednesday, 31-Dec-25 23:00:00 -0530",
    ),
    (1, "StartsAt", "2025-12-31T23:00:00.5-05:30", "3:04PM", "11:00PM"),
    (1, "StartsAt", "2025-12-31T23:00:00.5-05:30", "03:04:05 pm", "11:00:00 pm"),
    (
        1,
        "StartsAt",
        "2025-12-31T23:00:00.5-05:30",
        "Jan 2, 2006 at 3:04pm (MST)",
        "Dec 31, 2025 at 11:00pm (-0530)",
    ),
    (
        1,
        "StartsAt",
        "2025-12-31T23:00:00.5-05:30",
        "2006-01-02T15:04:05.000Z0700",
        "2025-12-31T23:00:00.500-0530",
    ),
    (
        1,
        "StartsAt",
        "2025-12-31T23:00:00.5-05:30",
        ".000 .999 ,000 ,999 .0 .9 .000000 .999999999",
        ".500 .5 ,500 ,5 .5 .5 .500000 .5",
    ),
    (
        1,
        "StartsAt",
        "2025-12-31T23:00:00.5-05:30",
        "Z07 -07 Z07:00:00 -07:00:00 Z070000 -070000 -0700 -07:00",
        "-05 -05 -05:30:00 -05:30:00 -053000 -053000 -0530 -05:30",
    ),
    (
        1,
        "StartsAt",
        "2025-12-31T23:00:00.5-05:30",
        "002 __2 _2 2 1 01 06 2006 _2006",
        "365 365 31 31 12 12 25 2025 _2025",
    ),
    (
        1,
        "StartsAt",
        "2025-12-31T23:00:00.5-05:30",
        "January Janu Jan Monday Mond Mon MST",
        "December Janu Dec Wednesday Mond Wed -0530",
    ),
    (
        1,
        "StartsAt",
        "2025-12-31T23:00:00.5-05:30",
        "15 3 03 4 04 5 05 PM pm",
        "23 11 11 0 00 0 00 PM pm",
    ),
    (
        1,
        "StartsAt",
        "2025-12-31T23:00:00.5-05:30",
        "Date: 2006/1/2 Time: 15h04",
        "Date: 2025/12/31 Time: 23h00",
    ),
    (1, "StartsAt", "2025-12-31T23:00:00.5-05:30", "12345", "12311100"),
    (1, "StartsAt", "2025-12-31T23:00:00.5-05:30", ".00a .99 .0009 ,9x", ".50a .5 .0009 ,5x"),
    (
        1,
        "StartsAt",
        "2025-12-31T23:00:00.5-05:30",
        "02 Jan 06 15:04 -0700",
        "31 Dec 25 23:00 -0530",
    ),
    (1, "StartsAt", "2025-12-31T23:00:00.5-05:30", "", ""),
    (
        1,
        "EndsAt",
        "2026-01-01T00:00:00.000000001-05:30",
        "2006-01-02T15:04:05Z07:00",
        "2026-01-01T00:00:00-05:30",
    ),
    (
        1,
        "EndsAt",
        "2026-01-01T00:00:00.000000001-05:30",
        "2006-01-02T15:04:05.999999999Z07:00",
        "2026-01-01T00:00:00.000000001-05:30",
    ),
    (
        1,
        "EndsAt",
        "2026-01-01T00:00:00.000000001-05:30",
        "Mon Jan _2 15:04:05 MST 2006",
        "Thu Jan  1 00:00:00 -0530 2026",
    ),
    (
        1,
        "EndsAt",
        "2026-01-01T00:00:00.000000001-05:30",
        "Monday, 02-Jan-06 15:04:05 MST",
        "Thursday, 01-Jan-26 00:00:00 -0530",
    ),
    (1, "EndsAt", "2026-01-01T00:00:00.000000001-05:30", "3:04PM", "12:00AM"),
    (1, "EndsAt", "2026-01-01T00:00:00.000000001-05:30", "03:04:05 pm", "12:00:00 am"),
    (
        1,
        "EndsAt",
        "2026-01-01T00:00:00.000000001-05:30",
        "Jan 2, 2006 at 3:04pm (MST)",
        "Jan 1, 2026 at 12:00am (-0530)",
    ),
    (
        1,
        "EndsAt",
        "2026-01-01T00:00:00.000000001-05:30",
        "2006-01-02T15:04:05.000Z0700",
        "2026-01-01T00:00:00.000-0530",
    ),
    (
        1,
        "EndsAt",
        "2026-01-01T00:00:00.000000001-05:30",
        ".000 .999 ,000 ,999 .0 .9 .000000 .999999999",
        ".000  ,000  .0  .000000 .000000001",
    ),
    (
        1,
        "EndsAt",
        "2026-01-01T00:00:00.000000001-05:30",
        "Z07 -07 Z07:00:00 -07:00:00 Z070000 -070000 -0700 -07:00",
        "-05 -05 -05:30:00 -05:30:00 -053000 -053000 -0530 -05:30",
    ),
    (
        1,
        "EndsAt",
        "2026-01-01T00:00:00.000000001-05:30",
        "002 __2 _2 2 1 01 06 2006 _2006",
        "001   1  1 1 1 01 26 2026 _2026",
    ),
    (
        1,
        "EndsAt",
        "2026-01-01T00:00:00.000000001-05:30",
        "January Janu Jan Monday Mond Mon MST",
        "January Janu Jan Thursday Mond Thu -0530",
    ),
    (
        1,
        "EndsAt",
        "2026-01-01T00:00:00.000000001-05:30",
        "15 3 03 4 04 5 05 PM pm",
        "00 12 12 0 00 0 00 AM am",
    ),
    (
        1,
        "EndsAt",
        "2026-01-01T00:00:00.000000001-05:30",
        "Date: 2006/1/2 Time: 15h04",
        "Date: 2026/1/1 Time: 00h00",
    ),
    (1, "EndsAt", "2026-01-01T00:00:00.000000001-05:30", "12345", "111200"),
    (1, "EndsAt", "2026-01-01T00:00:00.000000001-05:30", ".00a .99 .0009 ,9x", ".00a  .0009 x"),
    (
        1,
        "EndsAt",
        "2026-01-01T00:00:00.000000001-05:30",
        "02 Jan 06 15:04 -0700",
        "01 Jan 26 00:00 -0530",
    ),
    (1, "EndsAt", "2026-01-01T00:00:00.000000001-05:30", "", ""),
    (
        2,
        "StartsAt",
        "2024-02-29T12:00:00+00:00",
        "2006-01-02T15:04:05Z07:00",
        "2024-02-29T12:00:00Z",
    ),
    (
        2,
        "StartsAt",
        "2024-02-29T12:00:00+00:00",
        "2006-01-02T15:04:05.999999999Z07:00",
        "2024-02-29T12:00:00Z",
    ),
    (
        2,
        "StartsAt",
        "2024-02-29T12:00:00+00:00",
        "Mon Jan _2 15:04:05 MST 2006",
        "Thu Feb 29 12:00:00 UTC 2024",
    ),
    (
        2,
        "StartsAt",
        "2024-02-29T12:00:00+00:00",
        "Monday, 02-Jan-06 15:04:05 MST",
        "Thursday, 29-Feb-24 12:00:00 UTC",
    ),
    (2, "StartsAt", "2024-02-29T12:00:00+00:00", "3:04PM", "12:00PM"),
    (2, "StartsAt", "2024-02-29T12:00:00+00:00", "03:04:05 pm", "12:00:00 pm"),
    (
        2,
        "StartsAt",
        "2024-02-29T12:00:00+00:00",
        "Jan 2, 2006 at 3:04pm (MST)",
        "Feb 29, 2024 at 12:00pm (UTC)",
    ),
    (
        2,
        "StartsAt",
        "2024-02-29T12:00:00+00:00",
        "2006-01-02T15:04:05.000Z0700",
        "2024-02-29T12:00:00.000Z",
    ),
    (
        2,
        "StartsAt",
        "2024-02-29T12:00:00+00:00",
        ".000 .999 ,000 ,999 .0 .9 .000000 .999999999",
        ".000  ,000  .0  .000000 ",
    ),
    (
        2,
        "StartsAt",
        "2024-02-29T12:00:00+00:00",
        "Z07 -07 Z07:00:00 -07:00:00 Z070000 -070000 -0700 -07:00",
        "Z +00 Z +00:00:00 Z +000000 +0000 +00:00",
    ),
    (
        2,
        "StartsAt",
        "2024-02-29T12:00:00+00:00",
        "002 __2 _2 2 1 01 06 2006 _2006",
        "060  60 29 29 2 02 24 2024 _2024",
    ),
    (
        2,
        "StartsAt",
        "2024-02-29T12:00:00+00:00",
        "January Janu Jan Monday Mond Mon MST",
        "February Janu Feb Thursday Mond Thu UTC",
    ),
    (
        2,
        "StartsAt",
        "2024-02-29T12:00:00+00:00",
        "15 3 03 4 04 5 05 PM pm",
        "12 12 12 0 00 0 00 PM pm",
    ),
    (
        2,
        "StartsAt",
        "2024-02-29T12:00:00+00:00",
        "Date: 2006/1/2 Time: 15h04",
        "Date: 2024/2/29 Time: 12h00",
    ),
    (2, "StartsAt", "2024-02-29T12:00:00+00:00", "12345", "2291200"),
    (2, "StartsAt", "2024-02-29T12:00:00+00:00", ".00a .99 .0009 ,9x", ".00a  .0009 x"),
    (2, "StartsAt", "2024-02-29T12:00:00+00:00", "02 Jan 06 15:04 -0700", "29 Feb 24 12:00 +0000"),
    (2, "StartsAt", "2024-02-29T12:00:00+00:00", "", ""),
    (0, "EndsAt", "0001-01-01T00:00:00Z", "2006-01-02T15:04:05Z07:00", "0001-01-01T00:00:00Z"),
    (
        0,
        "EndsAt",
        "0001-01-01T00:00:00Z",
        "2006-01-02T15:04:05.999999999Z07:00",
        "0001-01-01T00:00:00Z",
    ),
    (
        0,
        "EndsAt",
        "0001-01-01T00:00:00Z",
        "Mon Jan _2 15:04:05 MST 2006",
        "Mon Jan  1 00:00:00 UTC 0001",
    ),
    (
        0,
        "EndsAt",
        "0001-01-01T00:00:00Z",
        "Monday, 02-Jan-06 15:04:05 MST",
        "Monday, 01-Jan-01 00:00:00 UTC",
    ),
    (0, "EndsAt", "0001-01-01T00:00:00Z", "3:04PM", "12:00AM"),
    (0, "EndsAt", "0001-01-01T00:00:00Z", "03:04:05 pm", "12:00:00 am"),
    (
        0,
        "EndsAt",
        "0001-01-01T00:00:00Z",
        "Jan 2, 2006 at 3:04pm (MST)",
        "Jan 1, 0001 at 12:00am (UTC)",
    ),
    (
        0,
        "EndsAt",
        "0001-01-01T00:00:00Z",
        "2006-01-02T15:04:05.000Z0700",
        "0001-01-01T00:00:00.000Z",
    ),
    (
        0,
        "EndsAt",
        "0001-01-01T00:00:00Z",
        ".000 .999 ,000 ,999 .0 .9 .000000 .999999999",
        ".000  ,000  .0  .000000 ",
    ),
    (
        0,
        "EndsAt",
        "0001-01-01T00:00:00Z",
        "Z07 -07 Z07:00:00 -07:00:00 Z070000 -070000 -0700 -07:00",
        "Z +00 Z +00:00:00 Z +000000 +0000 +00:00",
    ),
    (
        0,
        "EndsAt",
        "0001-01-01T00:00:00Z",
        "002 __2 _2 2 1 01 06 2006 _2006",
        "001   1  1 1 1 01 01 0001 _0001",
    ),
    (
        0,
        "EndsAt",
        "0001-01-01T00:00:00Z",
        "January Janu Jan Monday Mond Mon MST",
        "January Janu Jan Monday Mond Mon UTC",
    ),
    (0, "EndsAt", "0001-01-01T00:00:00Z", "15 3 03 4 04 5 05 PM pm", "00 12 12 0 00 0 00 AM am"),
    (
        0,
        "EndsAt",
        "0001-01-01T00:00:00Z",
        "Date: 2006/1/2 Time: 15h04",
        "Date: 0001/1/1 Time: 00h00",
    ),
    (0, "EndsAt", "0001-01-01T00:00:00Z", "12345", "111200"),
    (0, "EndsAt", "0001-01-01T00:00:00Z", ".00a .99 .0009 ,9x", ".00a  .0009 x"),
    (0, "EndsAt", "0001-01-01T00:00:00Z", "02 Jan 06 15:04 -0700", "01 Jan 01 00:00 +0000"),
    (0, "EndsAt", "0001-01-01T00:00:00Z", "", ""),
]


def _literal(arg: Any) -> str:
    """Write ``arg`` as a Go template literal."""
    if arg is None:
        return "nil"
    if isinstance(arg, bool):
        return "true" if arg else "false"
    if isinstance(arg, str):
        return quote(arg)
    if isinstance(arg, list):
        return "(stringSlice " + " ".join(_literal(a) for a in arg) + ")"
    return repr(arg)


def _load(path: Path) -> Data:
    return data_from_webhook(json.loads(path.read_text(encoding="utf-8")))


# --- fmt ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "args", "expected"), PRINTF_CASES)
def test_sprintf_matches_go(fmt: str, args: tuple[Any, ...], expected: str) -> None:
    """Sprintf prints each verb, flag, width, precision and error annotation as Go does."""
    assert sprintf(fmt, *args) == expected


@pytest.mark.amtool
@needs_amtool
def test_sprintf_table_matches_amtool() -> None:
    """amtool still prints every row of the printf table as recorded."""
    texts = [
        "{{ printf " + quote(fmt) + "".join(" " + _literal(a) for a in args) + " }}"
        for fmt, args, _ in PRINTF_CASES
    ]
    assert amtool_render_many(texts) == [expected for _, _, expected in PRINTF_CASES]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1e6, "1e+06"),
        (123456.0, "123456"),
        (1e21, "1e+21"),
        (1e-5, "1e-05"),
        (0.1, "0.1"),
        (-0.0, "-0"),
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
        (math.nan, "NaN"),
        (2.5e-310, "2.5e-310"),
    ],
)
def test_float_v_is_shortest_g(value: float, expected: str) -> None:
    """%v of a float64 is strconv's shortest 'g' with Go's exponent and infinity spellings."""
    assert format_value(value) == expected


def test_sprintf_nan_and_inf_flags() -> None:
    """NaN and infinities ignore zero padding and take a sign only when asked."""
    assert sprintf("%08.2f|%+f|% f|%-6v|", math.nan, math.nan, math.inf, -math.inf) == (
        "     NaN|+NaN| Inf|-Inf  |"
    )


def test_format_float_verbs() -> None:
    """format_float is strconv.FormatFloat for every format byte."""
    assert format_float(1.0, "b", -1) == "4503599627370496p-52"
    assert format_float(1.5, "x", -1) == "0x1.8p+00"
    assert format_float(1.5, "X", 3) == "0X1.800P+00"
    assert format_float(123456789.0, "e", -1) == "1.23456789e+08"
    assert format_float(0.000123, "f", -1) == "0.000123"
    assert format_float(1e22, "f", -1) == "10000000000000000000000"


def test_sprint_spaces_only_between_non_strings() -> None:
    """Sprint adds a space between operands only when neither is a string."""
    assert sprint("a", 1, 2, "b", 3.5, True) == "a1 2b3.5 true"
    assert sprint(None, None) == "<nil> <nil>"


def test_sprintln_spaces_everywhere() -> None:
    """Sprintln separates all operands and ends with a newline."""
    assert sprintln("a", 1, "b") == "a 1 b\n"


def test_composites_print_like_go() -> None:
    """Maps sort their keys, slices and structs use spaces, nil prints <nil>."""
    assert format_value({"b": 1, "a": [1, "x", None]}) == "map[a:[1 x <nil>] b:1]"
    assert format_value(None) == "<nil>"
    assert format_value(Pairs([Pair("a", "1"), Pair("b", "2")])) == "[{a 1} {b 2}]"
    assert sprintf("%+v", Pair("a", "1")) == "{Name:a Value:1}"
    assert sprintf("%#v", Pair("a", "1")) == 'template.Pair{Name:"a", Value:"1"}'
    assert sprintf("%d", KV(a="x")) == "map[%!d(string=a):%!d(string=x)]"
    assert sprintf("%s", [1]) == "[%!s(int=1)]"


def test_stringers_print_through_string() -> None:
    """Named types with String (time.Month, time.Duration) print as text for %v and %s only."""
    t = parse_rfc3339("2026-03-29T01:59:59Z")
    assert sprintf("%v %s %d", t.Month(), t.Weekday(), t.Month()) == "March Sunday 3"
    assert sprintf("%v|%q|%x", GoDuration(1500), GoDuration(1500), GoDuration(255)) == (
        '1.5µs|"1.5µs"|3235356e73'
    )
    assert sprintf("%d", GoDuration(90)) == "90"


def test_go_type_names() -> None:
    """Type names match reflect's for the values templates meet."""
    assert go_type_name("s") == "string"
    assert go_type_name(1.0) == "float64"
    assert go_type_name(KV()) == "template.KV"
    assert go_type_name(KV().Names()) == "[]string"
    assert go_type_name([1, "a"]) == "[]interface {}"
    assert go_type_name({"a": "b"}) == "map[string]interface {}"
    assert go_type_name(GoTime.zero()) == "time.Time"


# --- time --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("index", "field", "stamp", "layout", "expected"), FORMAT_CASES)
def test_format_matches_go(index: int, field: str, stamp: str, layout: str, expected: str) -> None:
    """Time.Format follows Go's reference layout grammar, zones and fractions included."""
    assert parse_rfc3339(stamp).Format(layout) == expected


@pytest.mark.amtool
@needs_amtool
def test_format_table_matches_amtool() -> None:
    """amtool still formats every row of the layout table as recorded."""
    texts = [
        f"{{{{ (index .Alerts {index}).{field}.Format {quote(layout)} }}}}"
        for index, field, _, layout, _ in FORMAT_CASES
    ]
    outputs = amtool_render_many(texts, data=DATA_DIR / "offsets.json")
    assert outputs == [expected for *_, expected in FORMAT_CASES]


def test_time_string_and_zones() -> None:
    """String is Go's default layout; unnamed offsets print as +hhmm, zero offsets as UTC."""
    assert parse_rfc3339("2026-03-29T01:59:59.120+02:00").String() == (
        "2026-03-29 01:59:59.12 +0200 +0200"
    )
    assert parse_rfc3339("2024-02-29T12:00:00+00:00").String() == "2024-02-29 12:00:00 +0000 UTC"
    assert GoTime.zero().String() == "0001-01-01 00:00:00 +0000 UTC"
    assert GoTime.zero().IsZero()
    assert format_value(parse_rfc3339("2024-02-29T12:00:00+00:00").Location()) == "Local"
    assert format_value(parse_rfc3339("2024-02-29T12:00:00Z").Location()) == "UTC"


def test_time_methods() -> None:
    """Unix*, calendar fields, comparisons and arithmetic agree with Go."""
    t = parse_rfc3339("2025-12-31T23:00:00.5-05:30")
    assert (t.Unix(), t.UnixMilli(), t.UnixNano()) == (
        1767241800,
        1767241800500,
        1767241800500000000,
    )
    assert (t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second()) == (
        2025,
        12,
        31,
        23,
        0,
        0,
    )
    assert (t.YearDay(), format_value(t.Weekday()), t.Nanosecond()) == (365, "Wednesday", 500000000)
    u = t.UTC()
    assert u.String() == "2026-01-01 04:30:00.5 +0000 UTC"
    assert u.Equal(t)
    assert not u.Before(t)
    assert not u.After(t)
    later = t.Add(GoDuration(90 * 60 * 10**9))
    assert later.Sub(t).String() == "1h30m0s"
    assert t.Truncate(GoDuration(3600 * 10**9)).String() == "2025-12-31 22:30:00 -0530 -0530"
    assert t.Round(GoDuration(10**9)).String() == "2025-12-31 23:00:01 -0530 -0530"
    assert t.AddDate(0, 2, 0).Format("2006-01-02") == "2026-03-03"


def test_sub_saturates_like_go() -> None:
    """Sub clamps to the int64 range, as for a firing alert's zero EndsAt."""
    start = parse_rfc3339("2026-11-28T07:10:29.688269Z")
    assert GoTime.zero().Sub(start).String() == "-2562047h47m16.854775808s"


def test_in_named_zone() -> None:
    """In with an IANA zone uses its abbreviation and offset at that instant."""
    t = parse_rfc3339("2026-07-01T12:00:00Z")
    berlin = load_location("Europe/Berlin")
    assert t.In(berlin).String() == "2026-07-01 14:00:00 +0200 CEST"
    assert t.In(berlin).Location().String() == "Europe/Berlin"
    assert parse_rfc3339("2026-01-01T12:00:00Z").In(berlin).Format("15:04 MST") == "13:00 CET"
    with pytest.raises(ValueError, match="unknown time zone Mars/Base"):
        load_location("Mars/Base")
    with pytest.raises(ValueError, match="time: invalid location name"):
        load_location("../etc/passwd")


@pytest.mark.parametrize(
    ("nanos", "expected"),
    [
        (0, "0s"),
        (1, "1ns"),
        (1500, "1.5µs"),
        (1_000_000, "1ms"),
        (1_500_000_000, "1.5s"),
        (3_723_500_000_000, "1h2m3.5s"),
        (-60 * 10**9, "-1m0s"),
        (100 * 3600 * 10**9, "100h0m0s"),
        (-(1 << 63), "-2562047h47m16.854775808s"),
    ],
)
def test_duration_string(nanos: int, expected: str) -> None:
    """Duration.String uses Go's units and trims fraction zeros."""
    assert GoDuration(nanos).String() == expected


def test_duration_methods() -> None:
    """Duration's float accessors and rounding follow Go."""
    d = GoDuration(5_400_000_000_000)
    assert (d.Hours(), d.Minutes(), d.Seconds(), d.Milliseconds()) == (1.5, 90.0, 5400.0, 5400000)
    assert GoDuration(-1_500_000_000).Round(10**9).String() == "-2s"
    assert GoDuration(1_499_999_999).Truncate(10**9).String() == "1s"


@pytest.mark.parametrize(
    ("layout", "value", "expected"),
    [
        ("2006-01-02", "2026-03-04", "2026-03-04 00:00:00 +0000 UTC"),
        (
            "2006-01-02T15:04:05Z07:00",
            "2026-03-04T05:06:07+01:00",
            "2026-03-04 05:06:07 +0100 +0100",
        ),
        ("Jan _2 2006 3:04pm", "Feb  9 2025 12:30am", "2025-02-09 00:30:00 +0000 UTC"),
        ("02/01/06 15:04:05.000", "31/12/99 23:59:58.125", "1999-12-31 23:59:58.125 +0000 UTC"),
        ("2006-01-02 15:04:05", "2026-03-04 05:06:07.25", "2026-03-04 05:06:07.25 +0000 UTC"),
        ("Monday 2006-002", "Friday 2024-060", "2024-02-29 00:00:00 +0000 UTC"),
    ],
)
def test_parse_time(layout: str, value: str, expected: str) -> None:
    """parse_time reads values written with Go layouts (time.ParseInLocation in UTC)."""
    assert parse_time(layout, value).String() == expected


@pytest.mark.parametrize(
    ("layout", "value", "message"),
    [
        ("2006-01-02", "2026-13-01", 'parsing time "2026-13-01": month out of range'),
        ("2006-01-02", "2026-02-30", 'parsing time "2026-02-30": day out of range'),
        (
            "2006-01-02",
            "26-01-02",
            'parsing time "26-01-02" as "2006-01-02": cannot parse "26-01-02" as "2006"',
        ),
        ("2006-01-02", "2026-01-02x", 'parsing time "2026-01-02x": extra text: "x"'),
    ],
)
def test_parse_time_errors(layout: str, value: str, message: str) -> None:
    """parse_time fails with Go's wording."""
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        parse_time(layout, value)


@pytest.mark.parametrize(
    "stamp", ["2026-01-01", "2026-01-01T25:00:00Z", "2026-02-30T00:00:00Z", "2026-01-01T00:00:00"]
)
def test_parse_rfc3339_rejects(stamp: str) -> None:
    """Timestamps Go's JSON decoding refuses are refused."""
    with pytest.raises(ValueError, match="parsing time"):
        parse_rfc3339(stamp)


def test_parse_rfc3339_keeps_nine_digits() -> None:
    """Fractions keep nanoseconds and drop digits beyond the ninth."""
    assert parse_rfc3339("2026-01-01T00:00:00.1234567891Z").Nanosecond() == 123456789


# --- data --------------------------------------------------------------------------------------


def test_sorted_pairs_put_alertname_first() -> None:
    """SortedPairs orders by name but always starts with alertname."""
    kv = KV(zeta="1", alertname="A", beta="2", Alpha="3")
    assert kv.SortedPairs().Names() == ["alertname", "Alpha", "beta", "zeta"]
    assert kv.Values() == ["A", "3", "2", "1"]
    assert kv.Names().Join(",") == "alertname,Alpha,beta,zeta"
    assert kv.Remove(["beta", "nope"]) == KV(zeta="1", alertname="A", Alpha="3")
    assert KV.go_zero_value == ""


def test_alerts_firing_and_resolved() -> None:
    """Firing and Resolved select by status and keep order."""
    alerts = Alerts([Alert(Status="firing"), Alert(Status="resolved"), Alert(Status="firing")])
    assert len(alerts.Firing()) == 2
    assert len(alerts.Resolved()) == 1
    assert go_type_name(alerts.Firing()) == "[]template.Alert"


def test_webhook_decoding_is_encoding_json() -> None:
    """Keys match case-insensitively, unknown keys and nulls are ignored, nothing is derived."""
    data = data_from_webhook(
        {
            "RECEIVER": "r",
            "status": "firing",
            "version": "4",
            "alerts": [{"status": "firing", "labels": {"a": None}, "annotations": None}, None],
            "commonLabels": None,
        }
    )
    assert data.Receiver == "r"
    assert data.Alerts[0].Labels == {"a": ""}
    assert data.Alerts[1].StartsAt.IsZero()
    assert data.CommonLabels == {}
    assert data.ExternalURL == ""


@pytest.mark.parametrize(
    "payload",
    [
        {"receiver": 5},
        {"alerts": {}},
        {"alerts": [{"startsAt": "yesterday"}]},
        {"alerts": [{"labels": {"a": 1}}]},
        {"groupLabels": []},
    ],
)
def test_webhook_decoding_refuses_wrong_types(payload: dict[str, Any]) -> None:
    """Payloads amtool refuses to decode are refused."""
    with pytest.raises(WebhookDataError):
        data_from_webhook(payload)


def test_amtool_default_data() -> None:
    """The built-in data has amtool's receiver, labels and alert times relative to now."""
    now = parse_rfc3339("2026-01-01T12:00:00Z")
    data = amtool_default_data(now)
    assert data.Receiver == "receiver"
    assert data.Status == "alertstatus"
    assert data.Alerts[0].Labels.Names() == [
        "commonlabelkey1",
        "commonlabelkey2",
        "instance",
        "label1",
        "label2",
    ]
    assert data.Alerts[1].StartsAt.String() == "2026-01-01 11:50:00 +0000 UTC"
    assert data.Alerts[0].EndsAt.Equal(now)
    assert data.ExternalURL == "https://example.com"


_NO_TIMES = (
    "{{ .Receiver }}|{{ .Status }}|{{ .GroupLabels }}|{{ .CommonLabels }}|"
    "{{ .CommonAnnotations }}|{{ .ExternalURL }}|{{ range .Alerts }}{{ .Labels }}"
    "{{ .Annotations }}{{ .Fingerprint }}{{ .GeneratorURL }}{{ end }}"
)


@pytest.mark.amtool
@needs_amtool
def test_default_data_matches_amtool() -> None:
    """Printed without its times, the default data is what amtool renders without data."""
    data = amtool_default_data()
    expected = amtool_render(_NO_TIMES)
    alerts = "".join(
        format_value(a.Labels) + format_value(a.Annotations) + a.Fingerprint + a.GeneratorURL
        for a in data.Alerts
    )
    ours = "|".join(
        [
            data.Receiver,
            data.Status,
            format_value(data.GroupLabels),
            format_value(data.CommonLabels),
            format_value(data.CommonAnnotations),
            data.ExternalURL,
            alerts,
        ]
    )
    assert ours == expected


def _probes(data: Data) -> list[tuple[str, str]]:
    """(template, what our value layer prints for it) pairs covering the data's values."""
    probes = [
        ("{{ . }}", format_value(data)),
        ('{{ printf "%+v" . }}', sprintf("%+v", data)),
        ('{{ printf "%v|%s|%q" .Alerts.Firing .GroupLabels .CommonLabels.Values }}', ""),
        ("{{ .CommonLabels.SortedPairs }}", format_value(data.CommonLabels.SortedPairs())),
        ("{{ .GroupLabels.Names }}", format_value(data.GroupLabels.Names())),
        ('{{ printf "%#v" . }}', sprintf("%#v", data)),
        (
            '{{ printf "%#v" .CommonLabels.SortedPairs }}',
            sprintf("%#v", data.CommonLabels.SortedPairs()),
        ),
        (
            '{{ printf "%d|%5.2s" .CommonLabels .GroupLabels }}',
            sprintf("%d|%5.2s", data.CommonLabels, data.GroupLabels),
        ),
    ]
    probes[2] = (
        probes[2][0],
        sprintf("%v|%s|%q", data.Alerts.Firing(), data.GroupLabels, data.CommonLabels.Values()),
    )
    for i, alert in enumerate(data.Alerts):
        at = f"(index .Alerts {i})"
        probes += [
            (f"{{{{ {at}.StartsAt }}}}", alert.StartsAt.String()),
            (
                f"{{{{ {at}.EndsAt.Sub {at}.StartsAt }}}}",
                format_value(alert.EndsAt.Sub(alert.StartsAt)),
            ),
            (f"{{{{ {at}.StartsAt.Unix }}}}", str(alert.StartsAt.Unix())),
            (f"{{{{ {at}.StartsAt.Weekday }}}}", format_value(alert.StartsAt.Weekday())),
            (f"{{{{ {at}.Labels.SortedPairs }}}}", format_value(alert.Labels.SortedPairs())),
            (f'{{{{ printf "%+v" {at} }}}}', sprintf("%+v", alert)),
        ]
    return probes


_SHARED = sorted(SHARED_FIXTURES.glob("*.json")) if SHARED_FIXTURES.is_dir() else []


@pytest.mark.amtool
@needs_amtool
@pytest.mark.parametrize("path", DATA_FILES + _SHARED, ids=lambda p: p.name)
def test_data_prints_like_amtool(path: Path) -> None:
    """Decoded webhook data prints, field by field and whole, as amtool prints it."""
    probes = _probes(_load(path))
    outputs = amtool_render_many([text for text, _ in probes], data=path)
    assert [ours for _, ours in probes] == outputs


REFUSED_PAYLOADS = [
    (
        '{"receiver":5}',
        "json: cannot unmarshal number into Go struct field Data.receiver of type string",
    ),
    (
        '{"alerts":{}}',
        "json: cannot unmarshal object into Go struct field Data.alerts of type template.Alerts",
    ),
    (
        '{"alerts":[{"labels":{"a":1}}]}',
        "json: cannot unmarshal number into Go struct field Alert.alerts.labels of type string",
    ),
    (
        '{"groupLabels":[]}',
        "json: cannot unmarshal array into Go struct field Data.groupLabels of type template.KV",
    ),
    (
        '{"alerts":[{"startsAt":"yesterday"}]}',
        'parsing time "\\"yesterday\\"" as "\\"2006-01-02T15:04:05Z07:00\\"": '
        'cannot parse "yesterday\\"" as "2006"',
    ),
    (
        '{"alerts":[{"startsAt":"2026-01-01T00:00:00"}]}',
        'parsing time "\\"2026-01-01T00:00:00\\"" as "\\"2006-01-02T15:04:05Z07:00\\"": '
        'cannot parse "\\"" as "Z07:00"',
    ),
    (
        '{"alerts":[{"endsAt":"2026-02-29T00:00:00Z"}]}',
        'parsing time "\\"2026-02-29T00:00:00Z\\"": day out of range',
    ),
    (
        '{"alerts":[{"endsAt":"2026-01-01T24:00:00Z"}]}',
        'parsing time "\\"2026-01-01T24:00:00Z\\"": hour out of range',
    ),
]


@pytest.mark.parametrize(("payload", "message"), REFUSED_PAYLOADS)
def test_refused_payloads_say_what_go_says(payload: str, message: str) -> None:
    """A payload Go's decoder refuses is refused with Go's message."""
    with pytest.raises(WebhookDataError) as error:
        data_from_webhook(json.loads(payload))
    assert str(error.value) == message


ODD_PAYLOADS = [
    '{"RECEIVER":"r","alerts":[{"status":"firing","labels":{"a":null,"b":"x"},"annotations":null},null]}',
    '{"receiver":"x","receiver":"y","Status":"firing"}',
    '{"receiver":"a\\ud800b"}',
    '{"alerts":[{"startsAt":"2026-01-01T00:00:00.1234567891Z","endsAt":"2026-01-01T00:00:00,5+01:00"}]}',
    '{"alerts":[{"startsAt":"2026-01-01T00:00:00+25:00","endsAt":"2026-01-01T00:00:00-05:99"}]}',
]


@pytest.mark.amtool
@needs_amtool
def test_odd_payloads_decode_like_amtool(tmp_path: Path) -> None:
    """Odd but accepted payloads decode as amtool decodes them; refused ones fail as in amtool."""
    from templates_amtool import AmtoolError

    for n, payload in enumerate(ODD_PAYLOADS):
        path = tmp_path / f"odd{n}.json"
        path.write_text(payload, encoding="utf-8")
        assert amtool_render("{{ . }}", data=path) == format_value(_load(path)), payload
    for n, (payload, message) in enumerate(REFUSED_PAYLOADS):
        path = tmp_path / f"refused{n}.json"
        path.write_text(payload, encoding="utf-8")
        with pytest.raises(AmtoolError) as error:
            amtool_render("x", data=path)
        assert str(error.value) == f"amtool: error: {message}"


_ALL_VERBS = ("%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%t", "%e", "%c", "%U", "%T")
_STRING_VERBS = ("%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%T", "%10.4v", "%-8s|", "%5.1q")


def _operands(data: Data) -> list[tuple[str, Any, tuple[str, ...]]]:
    """(template expression, our value, verbs to try) for printf over a payload's values.

    Go prints a time.Time's raw fields for verbs that take no Stringer (%d of a time is
    ``{wall ext loc}`` with a pointer); values holding times get only the string verbs.
    """
    first = data.Alerts[0]
    pairs = data.CommonLabels.SortedPairs()
    return [
        (".", data, _STRING_VERBS),
        (".Alerts.Firing", data.Alerts.Firing(), _STRING_VERBS),
        ("(index .Alerts 0).StartsAt", first.StartsAt, _STRING_VERBS),
        ("(index .Alerts 0).StartsAt.Month", first.StartsAt.Month(), _ALL_VERBS),
        (
            "(index .Alerts 0).EndsAt.Sub (index .Alerts 0).StartsAt",
            first.EndsAt.Sub(first.StartsAt),
            _ALL_VERBS,
        ),
        (".CommonLabels", data.CommonLabels, _ALL_VERBS + _STRING_VERBS),
        (".CommonLabels.SortedPairs", pairs, _ALL_VERBS + _STRING_VERBS),
        ("(index .Alerts 0).Annotations", first.Annotations, _ALL_VERBS),
        (".GroupLabels.Names", data.GroupLabels.Names(), _ALL_VERBS),
        (".Receiver", data.Receiver, _ALL_VERBS + _STRING_VERBS),
    ]


@pytest.mark.amtool
@needs_amtool
@pytest.mark.parametrize(
    "path", [DATA_DIR / "mixed.json", DATA_DIR / "offsets.json"], ids=lambda p: p.name
)
def test_printf_of_data_matches_amtool(path: Path) -> None:
    """printf with each verb over the payload's values prints what amtool prints."""
    cases = [
        (f"{{{{ printf {quote(verb)} ({expr}) }}}}", sprintf(verb, value))
        for expr, value, verbs in _operands(_load(path))
        for verb in verbs
    ]
    outputs = amtool_render_many([text for text, _ in cases], data=path)
    assert dict(cases) == dict(zip([t for t, _ in cases], outputs, strict=True))
