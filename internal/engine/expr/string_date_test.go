package expr_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/modjo-orm/modjo/internal/engine/conformance"
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// sdEval compiles spec and evaluates it against doc.
func sdEval(spec any, doc bson.D) (any, error) {
	e, err := expr.Compile(spec)
	if err != nil {
		return nil, err
	}
	return e.Eval(&expr.Env{Now: bson.DateTime(1577836800000)}, doc)
}

// TestStringDateConformanceFile checks the shape of expression_strings_dates.json; its
// cases run in TestExpressionConformance (expr_conformance_test.go).
func TestStringDateConformanceFile(t *testing.T) {
	cases, err := conformance.Load("expression_strings_dates.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(cases), 200)
	seen := map[string]bool{}
	for _, c := range cases {
		require.Falsef(t, seen[c.Name], "duplicate case name %q", c.Name)
		seen[c.Name] = true
		require.LessOrEqualf(t, len(c.Docs), 1, "case %q has more than one document", c.Name)
	}
}

// sdRun evaluates an extended-JSON expression against doc (an extended-JSON document, or
// "" for {_id: 1}).
func sdRun(t *testing.T, exprJSON, docJSON string) (any, error) {
	t.Helper()
	var spec bson.D
	require.NoError(t, bson.UnmarshalExtJSON([]byte(`{"e": `+exprJSON+`}`), false, &spec))
	doc := bson.D{{Key: "_id", Value: int32(1)}}
	if docJSON != "" {
		require.NoError(t, bson.UnmarshalExtJSON([]byte(docJSON), false, &doc))
	}
	return sdEval(spec[0].Value, doc)
}

func sdDate(t *testing.T, s string) bson.DateTime {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return bson.DateTime(tm.UnixMilli())
}

// TestDateFromPartsDSTResolution pins how wall-clock times that a daylight-saving change
// skips or repeats are resolved: like MongoDB's date library, a skipped time uses the
// offset before the change, and a repeated one takes the first instant west of Greenwich
// and the second east of it.
func TestDateFromPartsDSTResolution(t *testing.T) {
	tests := []struct {
		tz                    string
		y, m, d, hour, minute int32
		want                  string
	}{
		{"America/New_York", 2021, 3, 14, 2, 30, "2021-03-14T07:30:00Z"}, // skipped
		{"Europe/Paris", 2021, 3, 28, 2, 30, "2021-03-28T01:30:00Z"},     // skipped
		{"America/New_York", 2021, 11, 7, 1, 30, "2021-11-07T05:30:00Z"}, // repeated
		{"Europe/Paris", 2021, 10, 31, 2, 30, "2021-10-31T01:30:00Z"},    // repeated
		{"America/New_York", 2021, 7, 1, 12, 0, "2021-07-01T16:00:00Z"},
		{"Australia/Lord_Howe", 2021, 1, 1, 0, 0, "2020-12-31T13:00:00Z"}, // +11 in summer
	}
	for _, tt := range tests {
		got, err := sdEval(bson.D{{Key: "$dateFromParts", Value: bson.D{
			{Key: "year", Value: tt.y}, {Key: "month", Value: tt.m}, {Key: "day", Value: tt.d},
			{Key: "hour", Value: tt.hour}, {Key: "minute", Value: tt.minute}, {Key: "timezone", Value: tt.tz}}}}, nil)
		require.NoError(t, err)
		require.Equalf(t, sdDate(t, tt.want), got, "%s %d-%d-%d %d:%d", tt.tz, tt.y, tt.m, tt.d, tt.hour, tt.minute)
	}
}

// TestDatePartsMatchGoTime compares the calendar fields of many instants, before 1970 and
// far in the future, in several zones, with Go's time package.
func TestDatePartsMatchGoTime(t *testing.T) {
	zones := []string{"UTC", "+05:30", "-0800", "America/New_York", "Europe/London", "Asia/Kathmandu", "Australia/Adelaide"}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 3000; i++ {
		ms := rng.Int64N(2*253402300799999) - 253402300799999 // year -5999 .. 9999
		if i%3 == 0 {
			ms = rng.Int64N(4102444800000) - 2208988800000 // 1900 .. 2100
		}
		tz := zones[i%len(zones)]
		loc := time.UTC
		switch tz {
		case "+05:30":
			loc = time.FixedZone("", 5*3600+1800)
		case "-0800":
			loc = time.FixedZone("", -8*3600)
		case "UTC":
		default:
			var err error
			loc, err = time.LoadLocation(tz)
			require.NoError(t, err)
		}
		want := time.UnixMilli(ms).In(loc)
		got, err := sdEval(bson.D{{Key: "$dateToParts", Value: bson.D{{Key: "date", Value: bson.DateTime(ms)}, {Key: "timezone", Value: tz}}}}, nil)
		require.NoError(t, err)
		parts := got.(bson.D)
		require.Equalf(t, []any{int32(want.Year()), int32(want.Month()), int32(want.Day()), int32(want.Hour()),
			int32(want.Minute()), int32(want.Second()), int32(want.Nanosecond() / 1e6)},
			[]any{parts[0].Value, parts[1].Value, parts[2].Value, parts[3].Value, parts[4].Value, parts[5].Value, parts[6].Value},
			"%d in %s", ms, tz)
		iso, err := sdEval(bson.D{{Key: "$dateToParts", Value: bson.D{{Key: "date", Value: bson.DateTime(ms)}, {Key: "timezone", Value: tz}, {Key: "iso8601", Value: true}}}}, nil)
		require.NoError(t, err)
		wy, ww := want.ISOWeek()
		require.Equalf(t, int32(wy), iso.(bson.D)[0].Value, "%d in %s", ms, tz)
		require.Equalf(t, int32(ww), iso.(bson.D)[1].Value, "%d in %s", ms, tz)
		yday, err := sdEval(bson.D{{Key: "$dayOfYear", Value: bson.D{{Key: "date", Value: bson.DateTime(ms)}, {Key: "timezone", Value: tz}}}}, nil)
		require.NoError(t, err)
		require.Equal(t, int32(want.YearDay()), yday)
		wd, err := sdEval(bson.D{{Key: "$dayOfWeek", Value: bson.D{{Key: "date", Value: bson.DateTime(ms)}, {Key: "timezone", Value: tz}}}}, nil)
		require.NoError(t, err)
		require.Equal(t, int32(want.Weekday())+1, wd)
	}
}

// TestDateRoundTrips checks that $dateToParts and $dateFromParts, and $dateToString and
// $dateFromString, invert each other in zones without daylight-saving gaps.
func TestDateRoundTrips(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 1000; i++ {
		ms := rng.Int64N(253402300799999-(-62135596800000)) - 62135596800000 // 0001 .. 9999
		for _, tz := range []string{"UTC", "+09:30", "-04"} {
			d := bson.DateTime(ms)
			parts, err := sdEval(bson.D{{Key: "$dateToParts", Value: bson.D{{Key: "date", Value: d}, {Key: "timezone", Value: tz}}}}, nil)
			require.NoError(t, err)
			back, err := sdEval(bson.D{{Key: "$dateFromParts", Value: append(parts.(bson.D), bson.E{Key: "timezone", Value: tz})}}, nil)
			require.NoError(t, err)
			require.Equalf(t, d, back, "parts %v", parts)

			str, err := sdEval(bson.D{{Key: "$dateToString", Value: bson.D{{Key: "date", Value: d}, {Key: "format", Value: "%Y-%m-%dT%H:%M:%S.%L"}, {Key: "timezone", Value: tz}}}}, nil)
			require.NoError(t, err)
			back, err = sdEval(bson.D{{Key: "$dateFromString", Value: bson.D{{Key: "dateString", Value: str}, {Key: "timezone", Value: tz}}}}, nil)
			require.NoErrorf(t, err, "string %v", str)
			require.Equalf(t, d, back, "string %v", str)
		}
	}
}

// TestDateExtremes checks that dates at the ends of the representable range give errors
// rather than wrong answers or panics.
func TestDateExtremes(t *testing.T) {
	for _, ms := range []int64{math.MinInt64, math.MinInt64 + 1, -1, 0, math.MaxInt64} {
		d := bson.DateTime(ms)
		for _, spec := range []bson.D{
			{{Key: "$year", Value: d}},
			{{Key: "$isoWeekYear", Value: bson.D{{Key: "date", Value: d}, {Key: "timezone", Value: "America/New_York"}}}},
			{{Key: "$dateToParts", Value: bson.D{{Key: "date", Value: d}, {Key: "iso8601", Value: true}}}},
			{{Key: "$dateToString", Value: bson.D{{Key: "date", Value: d}}}},
			{{Key: "$dateAdd", Value: bson.D{{Key: "startDate", Value: d}, {Key: "unit", Value: "month"}, {Key: "amount", Value: int64(1000)}}}},
			{{Key: "$dateAdd", Value: bson.D{{Key: "startDate", Value: d}, {Key: "unit", Value: "millisecond"}, {Key: "amount", Value: int64(math.MaxInt64)}}}},
			{{Key: "$dateSubtract", Value: bson.D{{Key: "startDate", Value: d}, {Key: "unit", Value: "hour"}, {Key: "amount", Value: int64(2562047788015)}}}},
			{{Key: "$dateDiff", Value: bson.D{{Key: "startDate", Value: bson.DateTime(math.MinInt64)}, {Key: "endDate", Value: d}, {Key: "unit", Value: "millisecond"}}}},
			{{Key: "$dateDiff", Value: bson.D{{Key: "startDate", Value: bson.DateTime(math.MinInt64)}, {Key: "endDate", Value: d}, {Key: "unit", Value: "week"}, {Key: "timezone", Value: "Europe/Paris"}}}},
			{{Key: "$dateTrunc", Value: bson.D{{Key: "date", Value: d}, {Key: "unit", Value: "hour"}, {Key: "binSize", Value: int64(math.MaxInt64)}}}},
			{{Key: "$dateTrunc", Value: bson.D{{Key: "date", Value: d}, {Key: "unit", Value: "month"}, {Key: "timezone", Value: "Asia/Tokyo"}}}},
		} {
			require.NotPanics(t, func() { _, _ = sdEval(spec, nil) }, "%v", spec)
		}
	}
	_, err := sdEval(bson.D{{Key: "$dateAdd", Value: bson.D{{Key: "startDate", Value: bson.DateTime(math.MaxInt64 - 10)}, {Key: "unit", Value: "day"}, {Key: "amount", Value: int32(1)}}}}, nil)
	require.True(t, mongoerr.HasCode(err, 5166406), "%v", err)
	_, err = sdEval(bson.D{{Key: "$dateDiff", Value: bson.D{{Key: "startDate", Value: bson.DateTime(math.MinInt64)}, {Key: "endDate", Value: bson.DateTime(math.MaxInt64)}, {Key: "unit", Value: "millisecond"}}}}, nil)
	require.True(t, mongoerr.HasCode(err, 5166308), "%v", err)
	_, err = sdEval(bson.D{{Key: "$dateFromParts", Value: bson.D{{Key: "year", Value: int32(2000)}, {Key: "millisecond", Value: int64(math.MaxInt64)}}}}, nil)
	require.Error(t, err)
}

// TestTimezoneNames covers the accepted timezone spellings.
func TestTimezoneNames(t *testing.T) {
	for tz, offset := range map[string]int32{
		"+04:45": 285, "-0530": -330, "+03": 180, "-00": 0, "+00:00": 0, "UTC": 0, "GMT": 0,
		"Etc/GMT+5": -300, "Asia/Kolkata": 330, "America/St_Johns": -210,
	} {
		got, err := sdEval(bson.D{{Key: "$dateToString", Value: bson.D{{Key: "date", Value: bson.DateTime(1578000000000)}, {Key: "format", Value: "%Z"}, {Key: "timezone", Value: tz}}}}, nil)
		require.NoError(t, err, tz)
		require.Equal(t, fmt.Sprint(offset), got, tz)
	}
	for _, tz := range []string{"", "Local", "utc", "+4:45", "+04:5", "0430", "+04:45:00", "Europe/../UTC", "/etc/passwd", "posixrules", "Not/AZone", " UTC"} {
		_, err := sdEval(bson.D{{Key: "$hour", Value: bson.D{{Key: "date", Value: bson.DateTime(0)}, {Key: "timezone", Value: tz}}}}, nil)
		require.Truef(t, mongoerr.HasCode(err, 40485), "%q: %v", tz, err)
	}
}

// TestStringDateNoPanics evaluates the string and date operators on many argument shapes
// and values: every input must give a value or an error, never a panic.
func TestStringDateNoPanics(t *testing.T) {
	vals := []any{nil, value.Missing, true, int32(-1), int32(0), int32(3), int64(math.MaxInt64), int64(math.MinInt64),
		1.5, math.NaN(), math.Inf(1), math.Copysign(0, -1), "", "a", "é", "\xff\xfe", "寿司だよ", "2020-01-01", "%Y-%", "%",
		bson.DateTime(0), bson.DateTime(math.MaxInt64), bson.DateTime(math.MinInt64), bson.Timestamp{T: math.MaxUint32, I: 1},
		bson.ObjectID{0xff, 0xff, 0xff, 0xff}, bson.Regex{Pattern: "a(", Options: "i"}, bson.Regex{Pattern: "^", Options: "m"},
		bson.A{}, bson.A{"a"}, bson.D{}, bson.D{{Key: "a", Value: 1}}, bson.Decimal128{}, "America/New_York", "+99:99",
		"week", "hour", "month", "monday", "(?=x)", "[", "\\", "x*", "^", "$"}
	if d, err := bson.ParseDecimal128("1E+6000"); err == nil {
		vals = append(vals, d)
	}
	names := []string{"$concat", "$indexOfBytes", "$indexOfCP", "$split", "$strLenBytes", "$strLenCP",
		"$strcasecmp", "$substr", "$substrBytes", "$substrCP", "$toLower", "$toUpper", "$year", "$isoWeekYear", "$week"}
	objOps := map[string][]string{
		"$trim": {"input", "chars"}, "$ltrim": {"input", "chars"}, "$replaceOne": {"input", "find", "replacement"},
		"$replaceAll": {"input", "find", "replacement"}, "$regexFind": {"input", "regex", "options"},
		"$regexFindAll": {"input", "regex", "options"}, "$regexMatch": {"input", "regex", "options"},
		"$dateToString": {"date", "format", "timezone", "onNull"}, "$dateToParts": {"date", "timezone", "iso8601"},
		"$dateFromParts":  {"year", "month", "day", "hour", "minute", "second", "millisecond", "timezone"},
		"$dateFromString": {"dateString", "format", "timezone", "onNull", "onError"},
		"$dateAdd":        {"startDate", "unit", "amount", "timezone"}, "$dateSubtract": {"startDate", "unit", "amount", "timezone"},
		"$dateDiff":  {"startDate", "endDate", "unit", "timezone", "startOfWeek"},
		"$dateTrunc": {"date", "unit", "binSize", "timezone", "startOfWeek"},
	}
	rng := rand.New(rand.NewPCG(5, 6))
	pick := func() any {
		v := vals[rng.IntN(len(vals))]
		if value.IsMissing(v) {
			return "$nope"
		}
		if s, ok := v.(string); ok && len(s) > 0 && s[0] == '$' {
			return bson.D{{Key: "$literal", Value: s}}
		}
		return v
	}
	for i := 0; i < 20000; i++ {
		var spec bson.D
		if i%2 == 0 {
			args := bson.A{}
			for j := rng.IntN(5); j > 0; j-- {
				args = append(args, pick())
			}
			spec = bson.D{{Key: names[rng.IntN(len(names))], Value: args}}
		} else {
			ops := make([]string, 0, len(objOps))
			for op := range objOps {
				ops = append(ops, op)
			}
			slices.Sort(ops)
			op := ops[rng.IntN(len(ops))]
			args := bson.D{}
			for _, f := range objOps[op] {
				if rng.IntN(4) != 0 {
					args = append(args, bson.E{Key: f, Value: pick()})
				}
			}
			spec = bson.D{{Key: op, Value: args}}
		}
		require.NotPanics(t, func() { _, _ = sdEval(spec, bson.D{{Key: "_id", Value: int32(1)}}) }, "%v", spec)
	}
}

// TestParsersNoPanics feeds random strings built from the characters the date and regex
// parsers give meaning to.
func TestParsersNoPanics(t *testing.T) {
	const dateChars = "0123456789-/:.,+ TtZzGMTUCESDPAamphJulyJunsndrd()\x00%"
	const regexChars = "ab.*+?|^$()[]{}\\-,:#=!<>'PQEswdbBhvHVRNxXcoZzGK0123456789 \n"
	rng := rand.New(rand.NewPCG(7, 8))
	random := func(alphabet string, n int) string {
		b := make([]byte, rng.IntN(n))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	formats := []any{nil, "%Y-%m-%d", "%d/%m/%Y %H:%M:%S.%L%z", "%G-W%V-%u", "%Y %j", "%b %d %Y %Z", "%B"}
	for i := 0; i < 20000; i++ {
		args := bson.D{{Key: "dateString", Value: random(dateChars, 30)}}
		if f := formats[i%len(formats)]; f != nil {
			args = append(args, bson.E{Key: "format", Value: f})
		}
		spec := bson.D{{Key: "$dateFromString", Value: args}}
		require.NotPanics(t, func() { _, _ = sdEval(spec, nil) }, "%v", spec)

		re := random(regexChars, 12)
		for _, op := range []string{"$regexFindAll", "$regexMatch"} {
			spec := bson.D{{Key: op, Value: bson.D{{Key: "input", Value: random("ab\n é", 10)},
				{Key: "regex", Value: re}, {Key: "options", Value: []string{"", "i", "m", "s", "x", "ms"}[i%6]}}}}
			require.NotPanics(t, func() { _, _ = sdEval(spec, nil) }, "%v", spec)
		}
	}
}

func BenchmarkDateToStringInZone(b *testing.B) {
	e, err := expr.Compile(bson.D{{Key: "$dateToString", Value: bson.D{{Key: "date", Value: "$d"},
		{Key: "format", Value: "%Y-%m-%dT%H:%M:%S.%L%z"}, {Key: "timezone", Value: "Europe/Paris"}}}})
	require.NoError(b, err)
	doc := bson.D{{Key: "d", Value: bson.DateTime(1592228730123)}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Eval(nil, doc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDateTruncWeek(b *testing.B) {
	e, err := expr.Compile(bson.D{{Key: "$dateTrunc", Value: bson.D{{Key: "date", Value: "$d"},
		{Key: "unit", Value: "week"}, {Key: "timezone", Value: "America/New_York"}}}})
	require.NoError(b, err)
	doc := bson.D{{Key: "d", Value: bson.DateTime(1592228730123)}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Eval(nil, doc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSplitAndCase(b *testing.B) {
	e, err := expr.Compile(bson.D{{Key: "$split", Value: bson.A{bson.D{{Key: "$toUpper", Value: "$s"}}, " "}}})
	require.NoError(b, err)
	doc := bson.D{{Key: "s", Value: "the quick brown fox jumps over the lazy dog"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Eval(nil, doc); err != nil {
			b.Fatal(err)
		}
	}
}

// TestConstantTimezoneOrder pins when a bad constant timezone is reported: at compile
// time when some operand varies (MongoDB resolves constant zones while optimizing), but
// only if reached when the whole expression is constant and folded.
func TestConstantTimezoneOrder(t *testing.T) {
	got, err := sdRun(t, `{"$year": {"date": null, "timezone": "Bad/Zone"}}`, "")
	require.NoError(t, err)
	require.Nil(t, got)
	_, err = expr.Compile(bson.D{{Key: "$year", Value: bson.D{{Key: "date", Value: "$d"}, {Key: "timezone", Value: "Bad/Zone"}}}})
	require.True(t, mongoerr.HasCode(err, 40485), "%v", err)
	_, err = expr.Compile(bson.D{{Key: "$dateAdd", Value: bson.D{{Key: "startDate", Value: "$d"}, {Key: "unit", Value: "decade"}, {Key: "amount", Value: int32(1)}}}})
	require.True(t, mongoerr.HasCode(err, mongoerr.FailedToParse), "%v", err)
	got, err = sdRun(t, `{"$dateAdd": {"startDate": null, "unit": "decade", "amount": 1}}`, "")
	require.NoError(t, err)
	require.Nil(t, got)
	// A regex operator is never folded: a bad constant input fails only when evaluated.
	e, err := expr.Compile(bson.D{{Key: "$regexMatch", Value: bson.D{{Key: "input", Value: int32(1)}, {Key: "regex", Value: "a"}}}})
	require.NoError(t, err)
	_, err = e.Eval(nil, nil)
	require.True(t, mongoerr.HasCode(err, 51104), "%v", err)
}
