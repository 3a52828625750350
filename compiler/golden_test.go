package compiler

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/modjo-orm/modjo/expr"
	"github.com/modjo-orm/modjo/fields"
	"github.com/modjo-orm/modjo/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Golden compile tests, ent style: a QuerySet state in, the exact MQL out, written as
// relaxed extended JSON (whitespace is ignored).

// compact removes insignificant whitespace from a JSON text.
func compact(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, json.Compact(&b, []byte(s)), "want is not valid JSON: %s", s)
	return b.String()
}

// extJSON renders any BSON value as relaxed extended JSON.
func extJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, false, false)
	require.NoError(t, err)
	return string(b[len(`{"v":`) : len(b)-1])
}

type filterCase struct {
	name  string
	where expr.Condition
	want  string // the filter; "" when err is set
	err   string // a substring of the error
}

func runFilterCases(t *testing.T, m *model.Meta, cases []filterCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := FilterDoc(m, c.where)
			if c.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), c.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, compact(t, c.want), extJSON(t, d))
		})
	}
}

var (
	day1     = time.Date(2020, 5, 6, 7, 8, 9, 123_456_789, time.UTC)
	oid      = bson.ObjectID{0x5f, 0x0c, 11: 0x0a}
	uuid     = UUID{0x12, 15: 0x34}
	dec12_50 = func() bson.Decimal128 { d, _ := bson.ParseDecimal128("12.50"); return d }()
)

func TestGoldenTextLookups(t *testing.T) {
	t.Parallel()
	runFilterCases(t, metaOf(t, Book{}), []filterCase{
		{"exact implied", expr.Q{"title": "Go"}, `{"title": "Go"}`, ""},
		{"exact", expr.Q{"title__exact": "Go"}, `{"title": "Go"}`, ""},
		{"exact named string type", expr.Q{"status": Status("draft")}, `{"status": "draft"}`, ""},
		{"exact db_column", expr.Q{"author": "Ann"}, `{"writer": "Ann"}`, ""},
		{"iexact", expr.Q{"title__iexact": "go"}, `{"title": {"$regex": "^go\\z", "$options": "i"}}`, ""},
		{"contains", expr.Q{"title__contains": "a.b"}, `{"title": {"$regex": "a\\.b"}}`, ""},
		{"icontains", expr.Q{"title__icontains": "Go"}, `{"title": {"$regex": "Go", "$options": "i"}}`, ""},
		{"startswith", expr.Q{"title__startswith": "$x"}, `{"title": {"$regex": "^\\$x"}}`, ""},
		{"istartswith", expr.Q{"title__istartswith": "go"}, `{"title": {"$regex": "^go", "$options": "i"}}`, ""},
		{"endswith", expr.Q{"title__endswith": "(x)"}, `{"title": {"$regex": "\\(x\\)\\z"}}`, ""},
		{"iendswith", expr.Q{"title__iendswith": "X"}, `{"title": {"$regex": "X\\z", "$options": "i"}}`, ""},
		{"contains escapes every meta character", expr.Q{"title__contains": `\.+*?()|[]{}^$#`},
			`{"title": {"$regex": "\\\\\\.\\+\\*\\?\\(\\)\\|\\[\\]\\{\\}\\^\\$\\#"}}`, ""},
		{"contains escapes NUL", expr.Q{"title__contains": "a\x00b"}, `{"title": {"$regex": "a\\x00b"}}`, ""},
		{"contains empty matches every string", expr.Q{"title__contains": ""}, `{"title": {"$regex": ""}}`, ""},
		{"contains named string", expr.Q{"title__contains": Status("x")}, `{"title": {"$regex": "x"}}`, ""},
		{"in drops nil", expr.Q{"title__in": []any{"a", nil, "b"}}, `{"title": {"$in": ["a", "b"]}}`, ""},
		{"in typed slice", expr.Q{"title__in": []string{"a"}}, `{"title": {"$in": ["a"]}}`, ""},
		{"in empty matches nothing", expr.Q{"title__in": []string{}}, `{"title": {"$in": []}}`, ""},
		{"gt", expr.Q{"title__gt": "m"}, `{"title": {"$gt": "m"}}`, ""},
		{"gte", expr.Q{"title__gte": "m"}, `{"title": {"$gte": "m"}}`, ""},
		{"lt", expr.Q{"title__lt": "m"}, `{"title": {"$lt": "m"}}`, ""},
		{"lte", expr.Q{"title__lte": "m"}, `{"title": {"$lte": "m"}}`, ""},
		{"range", expr.Q{"title__range": []string{"a", "m"}}, `{"title": {"$gte": "a", "$lte": "m"}}`, ""},
		{"range array", expr.Q{"title__range": [2]string{"a", "m"}}, `{"title": {"$gte": "a", "$lte": "m"}}`, ""},
		{"isnull true", expr.Q{"title__isnull": true}, `{"title": null}`, ""},
		{"isnull false", expr.Q{"title__isnull": false}, `{"title": {"$ne": null}}`, ""},
		{"regex", expr.Q{"title__regex": "^G.*o$"}, `{"title": {"$regex": "^G.*o$"}}`, ""},
		{"iregex", expr.Q{"title__iregex": "^g"}, `{"title": {"$regex": "^g", "$options": "i"}}`, ""},
		{"value wrapper", expr.Q{"title": expr.Value("Go")}, `{"title": "Go"}`, ""},
		{"values are data", expr.Q{"title": "$where"}, `{"title": "$where"}`, ""},
		{"dotted string is data", expr.Q{"title": "a.b"}, `{"title": "a.b"}`, ""},

		{"string wants a string", expr.Q{"title": 5}, "", "Book.title (CharField, Go type string): cannot use a int value (in filter \"title\")"},
		{"contains wants a string", expr.Q{"title__contains": 5}, "", `filter "title__contains": want a string, got a int`},
		{"regex refuses NUL", expr.Q{"title__regex": "a\x00"}, "", "NUL"},
		{"contains refuses invalid UTF-8", expr.Q{"title__contains": "\xff"}, "", "not valid UTF-8"},
		{"range wants two", expr.Q{"title__range": []string{"a"}}, "", "want 2 values, got 1"},
		{"in wants a list", expr.Q{"title__in": "abc"}, "", "want a list of values, got a string"},
	})
}

func TestGoldenNumberAndScalarLookups(t *testing.T) {
	t.Parallel()
	runFilterCases(t, metaOf(t, Book{}), []filterCase{
		{"int exact", expr.Q{"pages": 5}, `{"pages": 5}`, ""},
		{"int in", expr.Q{"pages__in": []int{1, 2}}, `{"pages": {"$in": [1, 2]}}`, ""},
		{"int gt fraction stays a number", expr.Q{"pages__gt": 1.5}, `{"pages": {"$gt": 1.5}}`, ""},
		{"int lt beyond int32", expr.Q{"pages__lt": int64(1e12)}, `{"pages": {"$lt": 1000000000000}}`, ""},
		{"int range", expr.Q{"pages__range": []int{10, 20}}, `{"pages": {"$gte": 10, "$lte": 20}}`, ""},
		{"int gte lte", expr.Q{"views__gte": 1, "views__lte": 9},
			`{"$and": [{"views": {"$gte": 1}}, {"views": {"$lte": 9}}]}`, ""},
		{"float", expr.Q{"rating__gt": 4}, `{"rating": {"$gt": 4.0}}`, ""},
		{"decimal from text", expr.Q{"price": "12.50"}, `{"price": {"$numberDecimal": "12.50"}}`, ""},
		{"decimal lte", expr.Q{"price__lte": dec12_50}, `{"price": {"$lte": {"$numberDecimal": "12.50"}}}`, ""},
		{"bool", expr.Q{"active": true}, `{"active": true}`, ""},
		{"bool in", expr.Q{"active__in": []bool{false}}, `{"active": {"$in": [false]}}`, ""},
		{"datetime exact truncates to ms", expr.Q{"published": day1}, `{"published": {"$date": "2020-05-06T07:08:09.123Z"}}`, ""},
		{"datetime range", expr.Q{"published__range": []time.Time{day1, day1.Add(time.Hour)}},
			`{"published": {"$gte": {"$date": "2020-05-06T07:08:09.123Z"}, "$lte": {"$date": "2020-05-06T08:08:09.123Z"}}}`, ""},
		{"datetime isnull", expr.Q{"published__isnull": true}, `{"published": null}`, ""},
		{"date exact", expr.Q{"released": fields.Date{Year: 2020, Month: 2, Day: 29}}, `{"released": {"$date": "2020-02-29T00:00:00Z"}}`, ""},
		{"date gt from text", expr.Q{"released__gt": "2020-02-29"}, `{"released": {"$gt": {"$date": "2020-02-29T00:00:00Z"}}}`, ""},
		{"time of day", expr.Q{"opens__lt": fields.NewTimeOfDay(9, 30, 0, 0)}, `{"opens": {"$lt": 34200000000}}`, ""},
		{"duration", expr.Q{"length__gt": time.Hour}, `{"length": {"$gt": 3600000000000}}`, ""},
		{"uuid", expr.Q{"code": uuid}, `{"code": {"$binary": {"base64": "EgAAAAAAAAAAAAAAAAAANA==", "subType": "04"}}}`, ""},
		{"uuid in", expr.Q{"code__in": []UUID{uuid}}, `{"code": {"$in": [{"$binary": {"base64": "EgAAAAAAAAAAAAAAAAAANA==", "subType": "04"}}]}}`, ""},
		{"binary", expr.Q{"blob": []byte{1, 2}}, `{"blob": {"$binary": {"base64": "AQI=", "subType": "00"}}}`, ""},
		{"object id gt", expr.Q{"ref__gt": oid}, `{"ref": {"$gt": {"$oid": "5f0c0000000000000000000a"}}}`, ""},
		{"object id from hex", expr.Q{"ref": "5f0c0000000000000000000a"}, `{"ref": {"$oid": "5f0c0000000000000000000a"}}`, ""},
		{"pk", expr.Q{"pk": oid}, `{"_id": {"$oid": "5f0c0000000000000000000a"}}`, ""},
		{"id alias", expr.Q{"id": oid}, `{"_id": {"$oid": "5f0c0000000000000000000a"}}`, ""},
		{"pk in", expr.Q{"pk__in": []bson.ObjectID{oid}}, `{"_id": {"$in": [{"$oid": "5f0c0000000000000000000a"}]}}`, ""},
		{"json exact document", expr.Q{"data": map[string]any{"b": 1, "a": "$x"}}, `{"data": {"$eq": {"a": "$x", "b": 1}}}`, ""},
		{"json operator-looking map is data", expr.Q{"data": map[string]any{"$ne": 1}}, `{"data": {"$eq": {"$ne": 1}}}`, ""},
		{"json isnull is a missing key", expr.Q{"data__isnull": true}, `{"data": {"$exists": false}}`, ""},
		{"json not isnull", expr.Q{"data__isnull": false}, `{"data": {"$exists": true}}`, ""},
		{"json exact nil is isnull", expr.Q{"data": nil}, `{"data": {"$exists": false}}`, ""},
		{"array exact", expr.Q{"tags": []string{"a", "b"}}, `{"tags": {"$eq": ["a", "b"]}}`, ""},
		{"array isnull", expr.Q{"tags__isnull": true}, `{"tags": null}`, ""},
		{"embedded exact", expr.Q{"shop": Address{City: "P", Zip: 75}},
			`{"shop": {"$eq": {"city": "P", "street": null, "zip": 75, "geo": null}}}`, ""},
		{"embedded sub-field", expr.Q{"shop__city": "Paris"}, `{"shop.city": "Paris"}`, ""},
		{"embedded sub-field lookup", expr.Q{"shop__city__icontains": "par"}, `{"shop.city": {"$regex": "par", "$options": "i"}}`, ""},
		{"embedded two levels", expr.Q{"shop__geo__lat__gt": 1.5}, `{"shop.geo.lat": {"$gt": 1.5}}`, ""},
		{"embedded nullable", expr.Q{"branch__isnull": true}, `{"branch": null}`, ""},
		{"embedded nullable sub-field", expr.Q{"branch__street": "x"}, `{"branch.street": "x"}`, ""},

		{"int wants a number", expr.Q{"pages": "5"}, "", "cannot use a string value"},
		{"bool wants a bool", expr.Q{"active": 1}, "", "cannot use a int value"},
		{"date wants a date", expr.Q{"released": 5}, "", "cannot use a int value"},
		{"isnull wants a bool", expr.Q{"title__isnull": 1}, "", "isnull wants true or false, got int"},
		{"uuid in wants a list", expr.Q{"code__in": uuid}, "", "want a list of values, got a compiler.UUID (one value)"},
	})
}

func TestGoldenCompositeKey(t *testing.T) {
	t.Parallel()
	runFilterCases(t, metaOf(t, Line{}), []filterCase{
		{"pk tuple", expr.Q{"pk": []any{7, 2}}, `{"_id": {"$eq": {"order": 7, "n": 2}}}`, ""},
		{"pk document", expr.Q{"pk": bson.D{{Key: "order", Value: 7}, {Key: "no", Value: 2}}}, `{"_id": {"$eq": {"order": 7, "n": 2}}}`, ""},
		{"pk in", expr.Q{"pk__in": [][]any{{7, 2}, {8, 1}}}, `{"_id": {"$in": [{"order": 7, "n": 2}, {"order": 8, "n": 1}]}}`, ""},
		{"member", expr.Q{"order": 7, "no__gt": 1}, `{"_id.n": {"$gt": 1}, "_id.order": 7}`, ""},
		{"pk gt is not a lookup", expr.Q{"pk__gt": []any{1, 1}}, "", `cannot resolve lookup "pk__gt" on model Line; choices are: exact, in, isnull`},
		{"pk wrong arity", expr.Q{"pk": []any{1}}, "", "want a tuple of 2 values, got 1"},
	})
}

func TestGoldenTransforms(t *testing.T) {
	t.Parallel()
	const (
		y2020 = `{"$date": "2020-01-01T00:00:00Z"}`
		y2021 = `{"$date": "2021-01-01T00:00:00Z"}`
	)
	guard := func(path, cond string) string {
		return `{"` + path + `": {"$ne": null}, "$expr": ` + cond + `}`
	}
	runFilterCases(t, metaOf(t, Book{}), []filterCase{
		// Ranges on the stored date.
		{"year", expr.Q{"published__year": 2020}, `{"published": {"$gte": ` + y2020 + `, "$lt": ` + y2021 + `}}`, ""},
		{"year exact", expr.Q{"published__year__exact": 2020}, `{"published": {"$gte": ` + y2020 + `, "$lt": ` + y2021 + `}}`, ""},
		{"year gt", expr.Q{"published__year__gt": 2020}, `{"published": {"$gte": ` + y2021 + `}}`, ""},
		{"year gte", expr.Q{"published__year__gte": 2020}, `{"published": {"$gte": ` + y2020 + `}}`, ""},
		{"year lt", expr.Q{"published__year__lt": 2020}, `{"published": {"$lt": ` + y2020 + `}}`, ""},
		{"year lte", expr.Q{"published__year__lte": 2020}, `{"published": {"$lt": ` + y2021 + `}}`, ""},
		{"year range", expr.Q{"published__year__range": []int{2019, 2020}},
			`{"published": {"$gte": {"$date": "2019-01-01T00:00:00Z"}, "$lt": ` + y2021 + `}}`, ""},
		{"year in", expr.Q{"published__year__in": []int{2020, 2022}},
			`{"$or": [{"published": {"$gte": ` + y2020 + `, "$lt": ` + y2021 + `}}, {"published": {"$gte": {"$date": "2022-01-01T00:00:00Z"}, "$lt": {"$date": "2023-01-01T00:00:00Z"}}}]}`, ""},
		{"year in one", expr.Q{"published__year__in": []int{2020}}, `{"published": {"$gte": ` + y2020 + `, "$lt": ` + y2021 + `}}`, ""},
		{"year in none", expr.Q{"published__year__in": []int{}}, `{"published": {"$in": []}}`, ""},
		{"year of a DateField", expr.Q{"released__year": 2020}, `{"released": {"$gte": ` + y2020 + `, "$lt": ` + y2021 + `}}`, ""},
		{"iso_year", expr.Q{"published__iso_year": 2021},
			`{"published": {"$gte": {"$date": "2021-01-04T00:00:00Z"}, "$lt": {"$date": "2022-01-03T00:00:00Z"}}}`, ""},
		{"iso_year starting in December", expr.Q{"released__iso_year__gte": 2020}, `{"released": {"$gte": {"$date": "2019-12-30T00:00:00Z"}}}`, ""},
		{"date", expr.Q{"published__date": fields.Date{Year: 2020, Month: 5, Day: 6}},
			`{"published": {"$gte": {"$date": "2020-05-06T00:00:00Z"}, "$lt": {"$date": "2020-05-07T00:00:00Z"}}}`, ""},
		{"date from a time uses its UTC day", expr.Q{"published__date": time.Date(2020, 5, 6, 23, 0, 0, 0, time.FixedZone("W", -3600))},
			`{"published": {"$gte": {"$date": "2020-05-07T00:00:00Z"}, "$lt": {"$date": "2020-05-08T00:00:00Z"}}}`, ""},
		{"date lte", expr.Q{"published__date__lte": "2020-05-06"}, `{"published": {"$lt": {"$date": "2020-05-07T00:00:00Z"}}}`, ""},
		{"date gt", expr.Q{"published__date__gt": "2020-05-06"}, `{"published": {"$gte": {"$date": "2020-05-07T00:00:00Z"}}}`, ""},
		{"date range", expr.Q{"published__date__range": []string{"2020-05-01", "2020-05-31"}},
			`{"published": {"$gte": {"$date": "2020-05-01T00:00:00Z"}, "$lt": {"$date": "2020-06-01T00:00:00Z"}}}`, ""},
		{"hour of a TimeField", expr.Q{"opens__hour": 9}, `{"opens": {"$gte": 32400000000, "$lt": 36000000000}}`, ""},
		{"hour of a TimeField lt", expr.Q{"opens__hour__lt": 9}, `{"opens": {"$lt": 32400000000}}`, ""},
		{"transform isnull is the field's", expr.Q{"published__year__isnull": true}, `{"published": null}`, ""},

		// Date operators in $expr, UTC.
		{"month", expr.Q{"published__month": 3}, guard("published", `{"$eq": [{"$month": "$published"}, {"$literal": 3}]}`), ""},
		{"month in", expr.Q{"published__month__in": []int{1, 12}}, guard("published", `{"$in": [{"$month": "$published"}, [{"$literal": 1}, {"$literal": 12}]]}`), ""},
		{"month range", expr.Q{"released__month__range": []int{3, 5}},
			guard("released", `{"$and": [{"$gte": [{"$month": "$released"}, {"$literal": 3}]}, {"$lte": [{"$month": "$released"}, {"$literal": 5}]}]}`), ""},
		{"day", expr.Q{"published__day__gte": 15}, guard("published", `{"$gte": [{"$dayOfMonth": "$published"}, {"$literal": 15}]}`), ""},
		{"week is ISO", expr.Q{"published__week": 53}, guard("published", `{"$eq": [{"$isoWeek": "$published"}, {"$literal": 53}]}`), ""},
		{"week_day 1 is Sunday", expr.Q{"published__week_day": 1}, guard("published", `{"$eq": [{"$dayOfWeek": "$published"}, {"$literal": 1}]}`), ""},
		{"iso_week_day 1 is Monday", expr.Q{"released__iso_week_day__lte": 5}, guard("released", `{"$lte": [{"$isoDayOfWeek": "$released"}, {"$literal": 5}]}`), ""},
		{"quarter", expr.Q{"published__quarter": 2}, guard("published", `{"$eq": [{"$ceil": {"$divide": [{"$month": "$published"}, 3]}}, {"$literal": 2}]}`), ""},
		{"time", expr.Q{"published__time__lt": fields.NewTimeOfDay(12, 0, 0, 0)},
			guard("published", `{"$lt": [{"$multiply": [{"$subtract": ["$published", {"$dateTrunc": {"date": "$published", "unit": "day"}}]}, 1000]}, {"$literal": 43200000000}]}`), ""},
		{"time from text", expr.Q{"published__time": "12:30"},
			guard("published", `{"$eq": [{"$multiply": [{"$subtract": ["$published", {"$dateTrunc": {"date": "$published", "unit": "day"}}]}, 1000]}, {"$literal": 45000000000}]}`), ""},
		{"hour", expr.Q{"published__hour": 23}, guard("published", `{"$eq": [{"$hour": "$published"}, {"$literal": 23}]}`), ""},
		{"minute", expr.Q{"published__minute__gt": 30}, guard("published", `{"$gt": [{"$minute": "$published"}, {"$literal": 30}]}`), ""},
		{"second", expr.Q{"published__second__lt": 10}, guard("published", `{"$lt": [{"$second": "$published"}, {"$literal": 10}]}`), ""},
		{"minute of a TimeField", expr.Q{"opens__minute": 30},
			guard("opens", `{"$eq": [{"$mod": [{"$floor": {"$divide": ["$opens", 60000000]}}, 60]}, {"$literal": 30}]}`), ""},
		{"second of a TimeField", expr.Q{"opens__second": 5},
			guard("opens", `{"$eq": [{"$mod": [{"$floor": {"$divide": ["$opens", 1000000]}}, 60]}, {"$literal": 5}]}`), ""},
		{"date then year", expr.Q{"published__date__year": 2020},
			guard("published", `{"$eq": [{"$year": {"$dateTrunc": {"date": "$published", "unit": "day"}}}, {"$literal": 2020}]}`), ""},
		{"time then hour", expr.Q{"published__time__hour__gte": 9},
			guard("published", `{"$gte": [{"$floor": {"$divide": [{"$multiply": [{"$subtract": ["$published", {"$dateTrunc": {"date": "$published", "unit": "day"}}]}, 1000]}, 3600000000]}}, {"$literal": 9}]}`), ""},
		{"year against a field", expr.Q{"published__year": expr.F("pages")},
			`{"published": {"$ne": null}, "pages": {"$ne": null}, "$expr": {"$eq": [{"$year": "$published"}, "$pages"]}}`, ""},
		{"date against a DateField", expr.Q{"published__date": expr.F("released")},
			`{"published": {"$ne": null}, "released": {"$ne": null}, "$expr": {"$eq": [{"$dateTrunc": {"date": "$published", "unit": "day"}}, "$released"]}}`, ""},

		{"year wants an integer", expr.Q{"published__year": "2020"}, "", "want an integer, got string"},
		{"month wants a number", expr.Q{"published__month": "3"}, "", "want a number, got a string"},
		{"date wants a date", expr.Q{"published__date": 5}, "", "want a date"},
		{"year out of range", expr.Q{"published__year": 1 << 40}, "", "out of range"},
		{"no time transforms on a DateField", expr.Q{"released__hour": 1}, "",
			`cannot resolve lookup "released__hour" on model Book; choices are: day, exact, gt, gte, in, isnull, iso_week_day, iso_year, lt, lte, month, quarter, range, week, week_day, year`},
		{"no text lookups after a transform", expr.Q{"published__year__contains": 2}, "", `cannot resolve lookup "published__year__contains"`},
	})
}

func TestGoldenNullRules(t *testing.T) {
	t.Parallel()
	runFilterCases(t, metaOf(t, Book{}), []filterCase{
		{"exact nil is isnull", expr.Q{"author": nil}, `{"writer": null}`, ""},
		{"exact typed nil is isnull", expr.Q{"author": (*string)(nil)}, `{"writer": null}`, ""},
		{"iexact nil is isnull", expr.Q{"author__iexact": nil}, `{"writer": null}`, ""},
		{"Value(nil) is isnull", expr.Q{"author": expr.Value(nil)}, `{"writer": null}`, ""},
		{"exclude keeps null: $nor of the positive form", expr.Not(expr.Q{"author": "x"}), `{"$nor": [{"writer": "x"}]}`, ""},
		{"exclude comparison", expr.Not(expr.Q{"chapters__gt": 5}), `{"$nor": [{"chapters": {"$gt": 5}}]}`, ""},
		{"exclude isnull", expr.Not(expr.Q{"author__isnull": true}), `{"$nor": [{"writer": null}]}`, ""},
		{"exclude several lookups", expr.Not(expr.Q{"author": "x", "pages": 1}), `{"$nor": [{"writer": "x", "pages": 1}]}`, ""},
		{"exclude an or", expr.Not(expr.Or(expr.Q{"author": "x"}, expr.Q{"pages": 1})), `{"$nor": [{"writer": "x"}, {"pages": 1}]}`, ""},
		{"exact with F compares non-null values only", expr.Q{"author": expr.F("title")},
			`{"writer": {"$ne": null}, "title": {"$ne": null}, "$expr": {"$eq": ["$writer", "$title"]}}`, ""},
		{"gt with F", expr.Q{"pages__gt": expr.F("chapters")},
			`{"pages": {"$ne": null}, "chapters": {"$ne": null}, "$expr": {"$gt": ["$pages", "$chapters"]}}`, ""},
		{"excluding an F comparison keeps null", expr.Not(expr.Q{"pages__lt": expr.F("chapters")}),
			`{"$nor": [{"pages": {"$ne": null}, "chapters": {"$ne": null}, "$expr": {"$lt": ["$pages", "$chapters"]}}]}`, ""},

		{"gt nil", expr.Q{"pages__gt": nil}, "", `filter "pages__gt": nil cannot be used as a query value for the gt lookup (use isnull)`},
		{"contains nil", expr.Q{"title__contains": nil}, "", "nil cannot be used as a query value"},
		{"in nil", expr.Q{"title__in": nil}, "", "nil cannot be used as a query value"},
		{"isnull nil", expr.Q{"title__isnull": nil}, "", "isnull wants true or false, not nil"},
		{"nil on a non-null field is isnull", expr.Q{"pages": nil}, `{"pages": null}`, ""},
	})
}

func TestGoldenQNesting(t *testing.T) {
	t.Parallel()
	a, b, c, d := expr.Q{"title": "a"}, expr.Q{"pages": 1}, expr.Q{"views": 2}, expr.Q{"active": true}
	runFilterCases(t, metaOf(t, Book{}), []filterCase{
		{"nil is everything", nil, `{}`, ""},
		{"empty Q is everything", expr.Q{}, `{}`, ""},
		{"keys are sorted", expr.Q{"views": 2, "active": true, "title": "a"}, `{"active": true, "title": "a", "views": 2}`, ""},
		{"same path twice is $and", expr.Q{"pages__gt": 1, "pages__lt": 9}, `{"$and": [{"pages": {"$gt": 1}}, {"pages": {"$lt": 9}}]}`, ""},
		{"and of distinct paths is one document", expr.And(a, b), `{"title": "a", "pages": 1}`, ""},
		{"and with a repeated path", expr.And(a, expr.Q{"title__contains": "x"}),
			`{"$and": [{"title": "a"}, {"title": {"$regex": "x"}}]}`, ""},
		{"and splices nested $and", expr.And(expr.Q{"pages__gt": 1, "pages__lt": 9}, a),
			`{"$and": [{"pages": {"$gt": 1}}, {"pages": {"$lt": 9}}, {"title": "a"}]}`, ""},
		{"or", expr.Or(a, b), `{"$or": [{"title": "a"}, {"pages": 1}]}`, ""},
		{"or drops empty Qs", expr.Or(expr.Q{}, a), `{"title": "a"}`, ""},
		{"not of empty is nothing to filter", expr.Not(expr.Q{}), `{}`, ""},
		{"not", expr.Not(a), `{"$nor": [{"title": "a"}]}`, ""},
		{"depth 2", expr.Or(expr.And(a, b), c), `{"$or": [{"title": "a", "pages": 1}, {"views": 2}]}`, ""},
		{"depth 3", expr.And(a, expr.Or(b, expr.Not(expr.And(c, d)))),
			`{"title": "a", "$or": [{"pages": 1}, {"$nor": [{"views": 2, "active": true}]}]}`, ""},
		{"depth 3 or of ors", expr.Or(a, expr.Junction{Or: true, Children: []expr.Condition{b, expr.Or(c, d)}}),
			`{"$or": [{"title": "a"}, {"pages": 1}, {"views": 2}, {"active": true}]}`, ""},
		{"not not", expr.Negation{Child: expr.Negation{Child: a}}, `{"$nor": [{"$nor": [{"title": "a"}]}]}`, ""},
		{"two ands with $expr", expr.And(expr.Q{"pages__gt": expr.F("views")}, expr.Q{"views__lt": expr.F("chapters")}),
			`{"$and": [{"pages": {"$ne": null}, "views": {"$ne": null}, "$expr": {"$gt": ["$pages", "$views"]}}, {"views": {"$ne": null}, "chapters": {"$ne": null}, "$expr": {"$lt": ["$views", "$chapters"]}}]}`, ""},
	})
}

func TestGoldenArithmetic(t *testing.T) {
	t.Parallel()
	runFilterCases(t, metaOf(t, Book{}), []filterCase{
		{"mul", expr.Q{"pages__gt": expr.F("chapters").Mul(10)},
			`{"pages": {"$ne": null}, "chapters": {"$ne": null}, "$expr": {"$gt": ["$pages", {"$multiply": ["$chapters", {"$literal": 10}]}]}}`, ""},
		{"add sub div mod pow", expr.Q{"rating__lte": expr.F("pages").Add(1).Sub(expr.F("views")).Div(2).Mod(7).Pow(2)},
			`{"rating": {"$ne": null}, "pages": {"$ne": null}, "views": {"$ne": null}, "$expr": {"$lte": ["$rating", {"$pow": [{"$mod": [{"$divide": [{"$subtract": [{"$add": ["$pages", {"$literal": 1}]}, "$views"]}, {"$literal": 2}]}, {"$literal": 7}]}, {"$literal": 2}]}]}}`, ""},
		{"constant first", expr.Q{"pages": expr.Value(100).Sub(expr.F("views"))},
			`{"pages": {"$ne": null}, "views": {"$ne": null}, "$expr": {"$eq": ["$pages", {"$subtract": [{"$literal": 100}, "$views"]}]}}`, ""},
		{"decimal", expr.Q{"price__gt": expr.F("price").Mul(dec12_50)},
			`{"price": {"$ne": null}, "$expr": {"$gt": ["$price", {"$multiply": ["$price", {"$literal": {"$numberDecimal": "12.50"}}]}]}}`, ""},
		{"date plus duration", expr.Q{"published__gt": expr.F("released").Add(24 * time.Hour)},
			`{"published": {"$ne": null}, "released": {"$ne": null}, "$expr": {"$gt": ["$published", {"$add": ["$released", {"$literal": 86400000}]}]}}`, ""},
		{"date minus duration field", expr.Q{"published__lt": expr.F("published").Sub(expr.F("length"))},
			`{"published": {"$ne": null}, "length": {"$ne": null}, "$expr": {"$lt": ["$published", {"$subtract": ["$published", {"$toLong": {"$divide": ["$length", 1000000]}}]}]}}`, ""},
		{"date minus date is a duration", expr.Q{"length__gt": expr.F("published").Sub(expr.F("released"))},
			`{"length": {"$ne": null}, "published": {"$ne": null}, "released": {"$ne": null}, "$expr": {"$gt": ["$length", {"$multiply": [{"$subtract": ["$published", "$released"]}, 1000000]}]}}`, ""},
		{"in with an expression", expr.Q{"pages__in": []any{1, expr.F("views")}},
			`{"pages": {"$ne": null}, "views": {"$ne": null}, "$expr": {"$in": ["$pages", [{"$literal": 1}, "$views"]]}}`, ""},
		{"range with expressions", expr.Q{"pages__range": []any{expr.F("views"), expr.F("views").Add(5)}},
			`{"pages": {"$ne": null}, "views": {"$ne": null}, "$expr": {"$and": [{"$gte": ["$pages", "$views"]}, {"$lte": ["$pages", {"$add": ["$views", {"$literal": 5}]}]}]}}`, ""},
		{"string constant is a literal", expr.Q{"pages__gt": expr.F("pages").Add(expr.Value("$views"))}, "",
			"combines IntegerField and TextField"},
		{"F of a transform", expr.Q{"pages": expr.F("published__year")},
			`{"pages": {"$ne": null}, "published": {"$ne": null}, "$expr": {"$eq": ["$pages", {"$year": "$published"}]}}`, ""},

		{"text arithmetic", expr.Q{"pages": expr.F("title").Add(1)}, "", "not supported: Book: (F(title) + Value(1)) combines CharField and BigIntegerField"},
		{"unknown field in F", expr.Q{"pages": expr.F("nope")}, "", `cannot resolve field "nope" on model Book`},
		{"lookup in F", expr.Q{"pages": expr.F("pages__gt")}, "", `cannot resolve lookup "pages__gt"`},
		{"pattern lookup with F", expr.Q{"title__contains": expr.F("author")}, "", "not supported: Book: filter \"title__contains\": the contains lookup with an expression value"},
		{"empty expression", expr.Q{"pages": expr.Expr{}}, "", "an empty expression"},
		{"empty expression inside arithmetic", expr.Q{"pages": expr.F("pages").Add(expr.Expr{})}, "", "an empty expression"},
	})
}

func TestGoldenLookupErrors(t *testing.T) {
	t.Parallel()
	m := metaOf(t, Book{})
	var fe *model.FieldError
	_, err := FilterDoc(m, expr.Q{"titel": "x"})
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "Book", fe.Model)
	assert.Equal(t, "titel", fe.Name)
	assert.Equal(t, "field", fe.Kind)
	assert.Contains(t, fe.Choices, "title")
	assert.Contains(t, fe.Choices, "pk")
	assert.IsIncreasing(t, fe.Choices)

	_, err = FilterDoc(m, expr.Q{"title__icontanis": "x"})
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, model.FieldError{Model: "Book", Name: "title__icontanis", Kind: "lookup", Choices: []string{"contains", "endswith",
		"exact", "gt", "gte", "icontains", "iendswith", "iexact", "in", "iregex", "isnull", "istartswith", "lt", "lte", "range",
		"regex", "startswith"}}, *fe)

	_, err = FilterDoc(m, expr.Q{"pages__icontains": "1"})
	require.ErrorAs(t, err, &fe, "no text lookups on an IntegerField")
	assert.Equal(t, []string{"exact", "gt", "gte", "in", "isnull", "lt", "lte", "range"}, fe.Choices)

	_, err = FilterDoc(m, expr.Q{"active__gt": true})
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, []string{"exact", "in", "isnull"}, fe.Choices)

	_, err = FilterDoc(m, expr.Q{"shop__town": "x"})
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, model.FieldError{Model: "Book", Name: "shop__town", Kind: "field",
		Choices: []string{"city", "exact", "geo", "isnull", "street", "zip"}}, *fe)

	_, err = FilterDoc(m, expr.Q{"title__exact__x": "x"})
	require.ErrorAs(t, err, &fe, "a lookup must come last")
	assert.Equal(t, "title__exact", fe.Name)

	_, err = FilterDoc(m, expr.Q{"shops__city": "x"})
	assert.ErrorIs(t, err, model.ErrNotSupported)
	assert.ErrorContains(t, err, `"shops__city" goes through the array of sub-documents "shops"`)

	_, err = FilterDoc(m, expr.Q{"data__theme": "x"})
	assert.ErrorIs(t, err, model.ErrNotSupported)

	_, err = FilterDoc(m, expr.Q{"tags__contains": "x"})
	require.ErrorAs(t, err, &fe, "array lookups come with their own issue")
	assert.Equal(t, []string{"exact", "isnull"}, fe.Choices)

	_, err = FilterDoc(nil, expr.Q{})
	assert.Error(t, err)
}

type selectCase struct {
	name   string
	q      Query
	kind   Kind
	want   string
	loaded []string
	err    string
}

func runSelectCases(t *testing.T, compile func(*Query) (*Command, error), cases []selectCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := c.q
			if q.Meta == nil {
				q.Meta = metaOf(t, Book{})
			}
			cmd, err := compile(&q)
			if c.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), c.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, compact(t, c.want), cmd.String())
			if c.kind != 0 {
				assert.Equal(t, c.kind, cmd.Kind)
			}
			assert.Equal(t, c.loaded, cmd.Loaded)
			assert.Equal(t, q.Meta.Collection, cmd.Collection)
		})
	}
}

func TestGoldenSelect(t *testing.T) {
	t.Parallel()
	ordered := metaOf(t, Ordered{})
	where := expr.Q{"pages__gt": 100}
	runSelectCases(t, Select, []selectCase{
		{name: "everything", kind: Find, want: `{"find": "books"}`},
		{name: "filter", q: Query{Where: where}, kind: Find, want: `{"find": "books", "filter": {"pages": {"$gt": 100}}}`},
		{name: "typical", q: Query{Where: expr.And(expr.Q{"title__icontains": "go"}, expr.Or(expr.Q{"pages__gte": 100}, expr.Q{"published__year": 2020})),
			Order: []any{expr.F("published").Desc(), "title"}, Limit: 20}, kind: Find,
			want: `{"find": "books", "filter": {"title": {"$regex": "go", "$options": "i"}, "$or": [{"pages": {"$gte": 100}},
				{"published": {"$gte": {"$date": "2020-01-01T00:00:00Z"}, "$lt": {"$date": "2021-01-01T00:00:00Z"}}}]},
				"sort": {"published": -1, "title": 1}, "limit": 20}`},
		{name: "none", q: Query{Where: where, Empty: true}, kind: Find, want: `{"find": "books", "filter": {"_id": {"$in": []}}}`},
		{name: "slice", q: Query{Offset: 10, Limit: 5, BatchSize: 100}, kind: Find, want: `{"find": "books", "skip": 10, "limit": 5, "batchSize": 100}`},

		// Ordering.
		{name: "order strings", q: Query{Order: []any{"-pages", "title", "?"[:0] + "pk"}}, kind: Find,
			want: `{"find": "books", "sort": {"pages": -1, "title": 1, "_id": 1}}`},
		{name: "order embedded path", q: Query{Order: []any{"shop__city"}}, want: `{"find": "books", "sort": {"shop.city": 1}}`},
		{name: "order db_column", q: Query{Order: []any{expr.F("author").Asc()}}, want: `{"find": "books", "sort": {"writer": 1}}`},
		{name: "order repeated path kept once", q: Query{Order: []any{"title", "-title"}}, want: `{"find": "books", "sort": {"title": 1}}`},
		{name: "model ordering", q: Query{Meta: ordered}, want: `{"find": "ordered", "sort": {"rank": -1, "place.city": 1, "name": 1}}`},
		{name: "model ordering reversed", q: Query{Meta: ordered, Reverse: true}, want: `{"find": "ordered", "sort": {"rank": 1, "place.city": -1, "name": -1}}`},
		{name: "explicit ordering replaces the model's", q: Query{Meta: ordered, Order: []any{"name"}}, want: `{"find": "ordered", "sort": {"name": 1}}`},
		{name: "cleared ordering", q: Query{Meta: ordered, ClearOrder: true, Reverse: true}, want: `{"find": "ordered"}`},
		{name: "terms after a cleared ordering", q: Query{Meta: ordered, ClearOrder: true, Order: []any{"-name"}}, want: `{"find": "ordered", "sort": {"name": -1}}`},
		{name: "nulls first ascending is MongoDB's default", q: Query{Order: []any{expr.F("chapters").Asc().NullsFirst()}},
			kind: Find, want: `{"find": "books", "sort": {"chapters": 1}}`},
		{name: "nulls last descending is MongoDB's default", q: Query{Order: []any{expr.F("chapters").Desc().NullsLast()}},
			kind: Find, want: `{"find": "books", "sort": {"chapters": -1}}`},
		{name: "nulls last ascending", q: Query{Order: []any{expr.F("chapters").Asc().NullsLast(), "title"}, Limit: 3}, kind: Aggregate,
			want: `{"aggregate": "books", "pipeline": [
				{"$addFields": {"__modjo_n0": {"$in": [{"$type": "$chapters"}, ["missing", "null"]]}}},
				{"$sort": {"__modjo_n0": 1, "chapters": 1, "title": 1}},
				{"$limit": 3},
				{"$unset": ["__modjo_n0"]}], "cursor": {}}`},
		{name: "nulls first descending", q: Query{Order: []any{expr.F("chapters").Desc().NullsFirst()}}, kind: Aggregate,
			want: `{"aggregate": "books", "pipeline": [
				{"$addFields": {"__modjo_n0": {"$in": [{"$type": "$chapters"}, ["missing", "null"]]}}},
				{"$sort": {"__modjo_n0": -1, "chapters": -1}},
				{"$unset": ["__modjo_n0"]}], "cursor": {}}`},
		{name: "reverse moves nulls", q: Query{Order: []any{expr.F("chapters").Asc().NullsFirst()}, Reverse: true}, kind: Find,
			want: `{"find": "books", "sort": {"chapters": -1}}`},
		{name: "reverse moves nulls away from the default", q: Query{Order: []any{expr.F("chapters").Desc().NullsFirst()}, Reverse: true}, kind: Aggregate,
			want: `{"aggregate": "books", "pipeline": [
				{"$addFields": {"__modjo_n0": {"$in": [{"$type": "$chapters"}, ["missing", "null"]]}}},
				{"$sort": {"__modjo_n0": 1, "chapters": 1}},
				{"$unset": ["__modjo_n0"]}], "cursor": {}}`},
		{name: "random", q: Query{Where: where, Order: []any{"?"}, Limit: 2}, kind: Aggregate,
			want: `{"aggregate": "books", "pipeline": [
				{"$match": {"pages": {"$gt": 100}}},
				{"$addFields": {"__modjo_r": {"$rand": {}}}},
				{"$sort": {"__modjo_r": 1}},
				{"$limit": 2},
				{"$unset": ["__modjo_r"]}], "cursor": {}}`},
		{name: "random value", q: Query{Order: []any{expr.Random{}}, BatchSize: 50}, kind: Aggregate,
			want: `{"aggregate": "books", "pipeline": [{"$addFields": {"__modjo_r": {"$rand": {}}}}, {"$sort": {"__modjo_r": 1}},
				{"$unset": ["__modjo_r"]}], "cursor": {"batchSize": 50}}`},
		{name: "expression ordering", q: Query{Order: []any{expr.F("pages").Sub(expr.F("views")).Desc(), "title"}, Offset: 1}, kind: Aggregate,
			want: `{"aggregate": "books", "pipeline": [
				{"$addFields": {"__modjo_o0": {"$subtract": ["$pages", "$views"]}}},
				{"$sort": {"__modjo_o0": -1, "title": 1}},
				{"$skip": 1},
				{"$unset": ["__modjo_o0"]}], "cursor": {}}`},
		{name: "transform ordering", q: Query{Order: []any{expr.F("published__year").Asc()}}, kind: Aggregate,
			want: `{"aggregate": "books", "pipeline": [{"$addFields": {"__modjo_o0": {"$year": "$published"}}},
				{"$sort": {"__modjo_o0": 1}}, {"$unset": ["__modjo_o0"]}], "cursor": {}}`},
		{name: "expression ordering with nulls last", q: Query{Order: []any{expr.F("chapters").Mul(2).Asc().NullsLast()}}, kind: Aggregate,
			want: `{"aggregate": "books", "pipeline": [
				{"$addFields": {"__modjo_n0": {"$in": [{"$type": {"$multiply": ["$chapters", {"$literal": 2}]}}, ["missing", "null"]]},
				                "__modjo_o0": {"$multiply": ["$chapters", {"$literal": 2}]}}},
				{"$sort": {"__modjo_n0": 1, "__modjo_o0": 1}},
				{"$unset": ["__modjo_n0", "__modjo_o0"]}], "cursor": {}}`},
		{name: "unknown ordering field", q: Query{Order: []any{"-titel"}}, err: `cannot resolve field "titel" on model Book`},
		{name: "bad ordering value", q: Query{Order: []any{42}}, err: "cannot order by a int"},

		// Only / Defer.
		{name: "only", q: Query{Only: []string{"title", "pages"}}, kind: Find, loaded: []string{"id", "title", "pages"},
			want: `{"find": "books", "projection": {"title": 1, "pages": 1}}`},
		{name: "only follows field order and db_column", q: Query{Only: []string{"author", "title"}}, loaded: []string{"id", "title", "author"},
			want: `{"find": "books", "projection": {"title": 1, "writer": 1}}`},
		{name: "only pk", q: Query{Only: []string{"pk"}}, loaded: []string{"id"}, want: `{"find": "books", "projection": {"_id": 1}}`},
		{name: "defer", q: Query{Defer: []string{"data", "tags"}}, kind: Find,
			loaded: []string{"id", "title", "author", "status", "pages", "chapters", "views", "rating", "price", "published", "released",
				"opens", "length", "active", "code", "blob", "ref", "shop", "branch", "shops"},
			want: `{"find": "books", "projection": {"data": 0, "tags": 0}}`},
		{name: "defer pk is ignored", q: Query{Meta: ordered, Defer: []string{"pk", "name"}, ClearOrder: true}, loaded: []string{"id", "rank", "place"},
			want: `{"find": "ordered", "projection": {"name": 0}}`},
		{name: "only then defer", q: Query{Only: []string{"title", "pages"}, Defer: []string{"pages"}}, loaded: []string{"id", "title"},
			want: `{"find": "books", "projection": {"title": 1}}`},
		{name: "only with random order", q: Query{Only: []string{"title"}, Order: []any{"?"}}, loaded: []string{"id", "title"},
			want: `{"aggregate": "books", "pipeline": [{"$addFields": {"__modjo_r": {"$rand": {}}}}, {"$sort": {"__modjo_r": 1}},
				{"$project": {"title": 1}}], "cursor": {}}`},
		{name: "defer with random order", q: Query{Defer: []string{"data"}, Order: []any{"?"}, Meta: ordered},
			err: `cannot resolve field "data" on model Ordered`},
		{name: "defer with random order removes helpers", q: Query{Meta: ordered, Defer: []string{"name"}, Order: []any{"?"}}, loaded: []string{"id", "rank", "place"},
			want: `{"aggregate": "ordered", "pipeline": [{"$addFields": {"__modjo_r": {"$rand": {}}}}, {"$sort": {"__modjo_r": 1}},
				{"$project": {"name": 0, "__modjo_r": 0}}], "cursor": {}}`},
		{name: "only a sub-field", q: Query{Only: []string{"shop__city"}}, err: "only whole fields can be deferred"},
		{name: "only unknown", q: Query{Only: []string{"nope"}}, err: `cannot resolve field "nope"`},

		// Values.
		{name: "values", q: Query{Fields: []string{"title", "shop__city"}}, kind: Find,
			want: `{"find": "books", "projection": {"title": 1, "shop.city": 1, "_id": 0}}`},
		{name: "values with pk", q: Query{Fields: []string{"pk", "title"}}, want: `{"find": "books", "projection": {"_id": 1, "title": 1}}`},
		{name: "values covered path", q: Query{Fields: []string{"shop__city", "shop", "title", "title"}},
			want: `{"find": "books", "projection": {"shop": 1, "title": 1, "_id": 0}}`},
		{name: "values of every field", q: Query{Fields: []string{}}, want: `{"find": "books"}`},
		{name: "values ignore only", q: Query{Fields: []string{"title"}, Only: []string{"pages"}}, want: `{"find": "books", "projection": {"title": 1, "_id": 0}}`},
		{name: "values of a composite member", q: Query{Meta: metaOf(t, Line{}), Fields: []string{"no", "qty"}},
			want: `{"find": "line", "projection": {"_id.n": 1, "qty": 1}}`},
		{name: "values unknown", q: Query{Fields: []string{"shop__nope"}}, err: `cannot resolve field "shop__nope"`},

		// Distinct.
		{name: "distinct documents are all documents", q: Query{Distinct: true, Where: where}, kind: Find,
			want: `{"find": "books", "filter": {"pages": {"$gt": 100}}}`},
		{name: "distinct values", q: Query{Distinct: true, Fields: []string{"status", "shop__city"}, Order: []any{"status"}, Where: where, Limit: 10}, kind: Aggregate,
			want: `{"aggregate": "books", "pipeline": [
				{"$match": {"pages": {"$gt": 100}}},
				{"$group": {"_id": {"f0": {"$ifNull": ["$status", null]}, "f1": {"$ifNull": ["$shop.city", null]}}}},
				{"$sort": {"_id.f0": 1}},
				{"$limit": 10},
				{"$replaceWith": {"status": "$_id.f0", "shop": {"city": "$_id.f1"}}}], "cursor": {}}`},
		{name: "distinct values ordered by another field, as Django adds it", q: Query{Distinct: true, Fields: []string{"status"}, Order: []any{"-pages"}},
			want: `{"aggregate": "books", "pipeline": [
				{"$group": {"_id": {"f0": {"$ifNull": ["$status", null]}, "o0": {"$ifNull": ["$pages", null]}}}},
				{"$sort": {"_id.o0": -1}},
				{"$replaceWith": {"status": "$_id.f0"}}], "cursor": {}}`},
		{name: "distinct values with nulls last", q: Query{Distinct: true, Fields: []string{"author"}, Order: []any{expr.F("author").Asc().NullsLast()}},
			want: `{"aggregate": "books", "pipeline": [
				{"$group": {"_id": {"f0": {"$ifNull": ["$writer", null]}}}},
				{"$addFields": {"__modjo_n0": {"$in": [{"$type": "$_id.f0"}, ["missing", "null"]]}}},
				{"$sort": {"__modjo_n0": 1, "_id.f0": 1}},
				{"$replaceWith": {"writer": "$_id.f0"}}], "cursor": {}}`},
		{name: "distinct on", q: Query{DistinctOn: []string{"status"}, Order: []any{"status", "-published"}, Offset: 2, Limit: 5, Defer: []string{"data"}},
			kind: Aggregate,
			loaded: []string{"id", "title", "author", "status", "pages", "chapters", "views", "rating", "price", "published", "released",
				"opens", "length", "active", "code", "blob", "ref", "tags", "shop", "branch", "shops"},
			want: `{"aggregate": "books", "pipeline": [
				{"$sort": {"status": 1, "published": -1}},
				{"$group": {"_id": {"d0": {"$ifNull": ["$status", null]}}, "__modjo_doc": {"$first": "$$ROOT"}}},
				{"$replaceWith": "$__modjo_doc"},
				{"$sort": {"status": 1, "published": -1}},
				{"$skip": 2},
				{"$limit": 5},
				{"$project": {"data": 0}}], "cursor": {}}`},
		{name: "distinct on values", q: Query{DistinctOn: []string{"shop__city"}, Fields: []string{"title"}, ClearOrder: true},
			want: `{"aggregate": "books", "pipeline": [
				{"$group": {"_id": {"d0": {"$ifNull": ["$shop.city", null]}}, "__modjo_doc": {"$first": "$$ROOT"}}},
				{"$replaceWith": "$__modjo_doc"},
				{"$project": {"title": 1, "_id": 0}}], "cursor": {}}`},
		{name: "distinct on unknown", q: Query{DistinctOn: []string{"nope"}}, err: `cannot resolve field "nope"`},

		{name: "negative offset", q: Query{Offset: -1}, err: "negative offset"},
		{name: "negative limit", q: Query{Limit: -1}, err: "negative limit"},
		{name: "bad filter", q: Query{Where: expr.Q{"nope": 1}}, err: `cannot resolve field "nope"`},
	})
}

func TestGoldenCount(t *testing.T) {
	t.Parallel()
	where := expr.Q{"pages__gt": 100}
	runSelectCases(t, Count, []selectCase{
		{name: "all", kind: Aggregate, want: `{"aggregate": "books", "pipeline": [{"$count": "n"}], "cursor": {}}`},
		{name: "filter", q: Query{Where: where, Order: []any{"?"}}, want: `{"aggregate": "books", "pipeline": [{"$match": {"pages": {"$gt": 100}}}, {"$count": "n"}], "cursor": {}}`},
		{name: "sliced", q: Query{Where: where, Offset: 5, Limit: 10},
			want: `{"aggregate": "books", "pipeline": [{"$match": {"pages": {"$gt": 100}}}, {"$skip": 5}, {"$limit": 10}, {"$count": "n"}], "cursor": {}}`},
		{name: "none", q: Query{Empty: true}, want: `{"aggregate": "books", "pipeline": [{"$match": {"_id": {"$in": []}}}, {"$count": "n"}], "cursor": {}}`},
		{name: "distinct values", q: Query{Distinct: true, Fields: []string{"status"}, Limit: 3},
			want: `{"aggregate": "books", "pipeline": [{"$group": {"_id": {"f0": {"$ifNull": ["$status", null]}}}}, {"$limit": 3}, {"$count": "n"}], "cursor": {}}`},
		{name: "distinct on", q: Query{DistinctOn: []string{"status"}, Where: where},
			want: `{"aggregate": "books", "pipeline": [{"$match": {"pages": {"$gt": 100}}}, {"$group": {"_id": {"d0": {"$ifNull": ["$status", null]}}}}, {"$count": "n"}], "cursor": {}}`},
		{name: "bad", q: Query{Offset: -2}, err: "negative offset"},
	})
}

func TestGoldenExists(t *testing.T) {
	t.Parallel()
	runSelectCases(t, Exists, []selectCase{
		{name: "all", kind: Find, want: `{"find": "books", "projection": {"_id": 1}, "limit": 1}`},
		{name: "filter and offset", q: Query{Where: expr.Q{"title": "x"}, Offset: 3, Limit: 10, Order: []any{"title"}}, kind: Find,
			want: `{"find": "books", "filter": {"title": "x"}, "projection": {"_id": 1}, "skip": 3, "limit": 1}`},
		{name: "distinct values with offset", q: Query{Distinct: true, Fields: []string{"status"}, Offset: 2, ClearOrder: true}, kind: Aggregate,
			want: `{"aggregate": "books", "pipeline": [{"$group": {"_id": {"f0": {"$ifNull": ["$status", null]}}}}, {"$skip": 2}, {"$limit": 1}], "cursor": {}}`},
	})
}

func TestGoldenSortDoc(t *testing.T) {
	t.Parallel()
	m := metaOf(t, Ordered{})
	d, err := SortDoc(m, nil, false)
	require.NoError(t, err)
	assert.Equal(t, `{"rank":-1,"place.city":1,"name":1}`, extJSON(t, d))
	d, err = SortDoc(m, nil, true)
	require.NoError(t, err)
	assert.Equal(t, `{"rank":1,"place.city":-1,"name":-1}`, extJSON(t, d))
	d, err = SortDoc(m, []any{}, false)
	require.NoError(t, err)
	assert.Equal(t, `{}`, extJSON(t, d))
	_, err = SortDoc(m, []any{"?"}, false)
	assert.ErrorIs(t, err, model.ErrNotSupported)
	_, err = SortDoc(m, []any{expr.F("rank").Asc().NullsLast()}, false)
	assert.ErrorIs(t, err, model.ErrNotSupported)
}

func TestGoldenUpdate(t *testing.T) {
	t.Parallel()
	m := metaOf(t, Book{})
	cases := []struct {
		name string
		set  expr.Set
		want string
		err  string
	}{
		{"constants", expr.Set{"title": "$x", "pages": 5, "published": day1},
			`{"$set": {"pages": 5, "published": {"$date": "2020-05-06T07:08:09.123Z"}, "title": "$x"}}`, ""},
		{"nil on a nullable field stores null", expr.Set{"author": nil}, `{"$set": {"writer": null}}`, ""},
		{"json without a value is unset", expr.Set{"data": nil, "title": "t"}, `{"$set": {"title": "t"}, "$unset": {"data": ""}}`, ""},
		{"json null is stored", expr.Set{"data": fields.JSONNull}, "", "cannot use a fields.JSONNullValue value"},
		{"embedded document", expr.Set{"shop": Address{City: "P"}}, `{"$set": {"shop": {"city": "P", "street": null, "zip": 0, "geo": null}}}`, ""},
		{"embedded sub-field", expr.Set{"shop__city": "Lyon"}, `{"$set": {"shop.city": "Lyon"}}`, ""},
		{"expression is a pipeline", expr.Set{"views": expr.F("views").Add(1)},
			`[{"$set": {"views": {"$toLong": {"$add": ["$views", {"$literal": 1}]}}}}]`, ""},
		{"mixed constants become literals", expr.Set{"pages": expr.F("pages").Div(2), "title": "$views", "data": nil},
			`[{"$set": {"pages": {"$toInt": {"$divide": ["$pages", {"$literal": 2}]}}, "title": {"$literal": "$views"}}}, {"$unset": ["data"]}]`, ""},
		{"float and decimal conversions", expr.Set{"rating": expr.F("rating").Mul(1.5), "price": expr.F("price").Add(1)},
			`[{"$set": {"price": {"$toDecimal": {"$add": ["$price", {"$literal": 1}]}}, "rating": {"$toDouble": {"$multiply": ["$rating", {"$literal": 1.5}]}}}}]`, ""},
		{"date field truncates to the day", expr.Set{"released": expr.F("published")},
			`[{"$set": {"released": {"$dateTrunc": {"date": "$published", "unit": "day"}}}}]`, ""},
		{"datetime plus duration", expr.Set{"published": expr.F("published").Add(time.Minute)},
			`[{"$set": {"published": {"$add": ["$published", {"$literal": 60000}]}}}]`, ""},
		{"value wrapper is a constant", expr.Set{"title": expr.Value("x")}, `{"$set": {"title": "x"}}`, ""},
		{"pk", expr.Set{"pk": oid}, "", "the primary key cannot be changed"},
		{"id", expr.Set{"id": oid}, "", "the primary key cannot be changed"},
		{"unknown", expr.Set{"nope": 1}, "", `cannot resolve field "nope"`},
		{"transform is not a field", expr.Set{"published__year": 1}, "", `cannot resolve field "published__year"`},
		{"bad value", expr.Set{"pages": "x"}, "", `cannot use a string value (in update of "pages")`},
		{"nil on a non-null field", expr.Set{"pages": nil}, "", "nil is not a value"},
		{"empty", expr.Set{}, "", "at least one field"},
		{"bad expression", expr.Set{"pages": expr.F("nope")}, "", `cannot resolve field "nope"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u, err := UpdateDoc(m, c.set)
			if c.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), c.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, compact(t, c.want), extJSON(t, u))
		})
	}
	lm := metaOf(t, Line{})
	_, err := UpdateDoc(lm, expr.Set{"no": 1})
	assert.ErrorContains(t, err, "the primary key cannot be changed")
	u, err := UpdateDoc(lm, expr.Set{"qty": expr.F("qty").Mul(2)})
	require.NoError(t, err)
	assert.Equal(t, `[{"$set":{"qty":{"$toInt":{"$multiply":["$qty",{"$literal":2}]}}}}]`, extJSON(t, u))
}

func TestGoldenEqualities(t *testing.T) {
	t.Parallel()
	m := metaOf(t, Book{})
	cases := []struct {
		name  string
		where expr.Condition
		want  string // "" when not ok
	}{
		{"nil", nil, `{}`},
		{"exact lookups", expr.Q{"title": "x", "pages__exact": 3, "shop__city": "P"}, `{"pages": 3, "shop.city": "P", "title": "x"}`},
		{"and of qs", expr.And(expr.Q{"title": "x"}, expr.Q{"author": "a"}), `{"title": "x", "writer": "a"}`},
		{"converted", expr.Q{"pk": "5f0c0000000000000000000a", "published": day1}, `{"_id": {"$oid": "5f0c0000000000000000000a"}, "published": {"$date": "2020-05-06T07:08:09.123Z"}}`},
		{"embedded document", expr.Q{"shop": Address{City: "P"}}, `{"shop": {"city": "P", "street": null, "zip": 0, "geo": null}}`},
		{"other lookup", expr.Q{"title": "x", "pages__gt": 3}, ""},
		{"isnull", expr.Q{"author": nil}, ""},
		{"transform", expr.Q{"published__year": 2020}, ""},
		{"expression", expr.Q{"pages": expr.F("views")}, ""},
		{"or", expr.Or(expr.Q{"title": "x"}, expr.Q{"title": "y"}), ""},
		{"not", expr.Not(expr.Q{"title": "x"}), ""},
		{"same path twice", expr.And(expr.Q{"title": "x"}, expr.Q{"title": "y"}), ""},
		{"overlapping paths", expr.Q{"shop": Address{}, "shop__city": "P"}, ""},
		{"unknown field", expr.Q{"nope": 1}, ""},
		{"bad value", expr.Q{"pages": "x"}, ""},
		{"json", expr.Q{"data": map[string]any{"a": 1}}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, ok := Equalities(m, c.where)
			if c.want == "" {
				assert.False(t, ok)
				return
			}
			require.True(t, ok)
			assert.Equal(t, compact(t, c.want), extJSON(t, d))
		})
	}
	d, ok := Equalities(metaOf(t, Line{}), expr.Q{"pk": []any{1, 2}})
	require.True(t, ok)
	assert.Equal(t, `{"_id":{"order":1,"n":2}}`, extJSON(t, d))
}

func TestResolve(t *testing.T) {
	t.Parallel()
	m := metaOf(t, Book{})
	p, err := Resolve(m, "shop__geo__lat")
	require.NoError(t, err)
	assert.Equal(t, "shop.geo.lat", p.Stored)
	require.Len(t, p.Fields, 3)
	assert.Equal(t, []string{"shop", "geo", "lat"}, []string{p.Fields[0].Name, p.Fields[1].Name, p.Fields[2].Name})
	assert.Equal(t, "lat", p.Field().Name)

	p, err = Resolve(m, "pk")
	require.NoError(t, err)
	assert.Equal(t, "_id", p.Stored)
	p, err = Resolve(m, "author")
	require.NoError(t, err)
	assert.Equal(t, "writer", p.Stored)
	p, err = Resolve(metaOf(t, Line{}), "no")
	require.NoError(t, err)
	assert.Equal(t, "_id.n", p.Stored)

	var fe *model.FieldError
	_, err = Resolve(m, "nope")
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "nope", fe.Name)
	_, err = Resolve(m, "title__exact")
	require.ErrorAs(t, err, &fe, "lookups are not fields")
	assert.Equal(t, "title__exact", fe.Name)
	_, err = Resolve(m, "shop__nope__x")
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "shop__nope", fe.Name)
	assert.Equal(t, []string{"city", "geo", "street", "zip"}, fe.Choices)
	_, err = Resolve(m, "shops__city")
	assert.True(t, errors.Is(err, model.ErrNotSupported))
	_, err = Resolve(nil, "x")
	assert.Error(t, err)
}

// Commands keep exact BSON types: int64 offsets and limits, int32 batch sizes, stored
// types for values.
func TestCommandTypes(t *testing.T) {
	t.Parallel()
	m := metaOf(t, Book{})
	cmd, err := Select(&Query{Meta: m, Where: expr.Q{"pages": 5, "views": 5, "rating": 5}, Offset: 1, Limit: 2, BatchSize: 3})
	require.NoError(t, err)
	get := func(d bson.D, k string) any {
		for _, e := range d {
			if e.Key == k {
				return e.Value
			}
		}
		t.Fatalf("no %s in %v", k, d)
		return nil
	}
	filter := get(cmd.Doc, "filter").(bson.D)
	assert.Equal(t, int32(5), get(filter, "pages"))
	assert.Equal(t, int64(5), get(filter, "views"))
	assert.Equal(t, float64(5), get(filter, "rating"))
	assert.Equal(t, int64(1), get(cmd.Doc, "skip"))
	assert.Equal(t, int64(2), get(cmd.Doc, "limit"))
	assert.Equal(t, int32(3), get(cmd.Doc, "batchSize"))
	assert.Equal(t, "find", cmd.Kind.String())
	assert.Equal(t, "aggregate", Aggregate.String())
	var nilCmd *Command
	assert.Equal(t, "<nil>", nilCmd.String())
}

func TestGoldenPointersAndExpressionLists(t *testing.T) {
	t.Parallel()
	title, year := "Go", 2020
	runFilterCases(t, metaOf(t, Book{}), []filterCase{
		{"pointer value", expr.Q{"title__contains": &title}, `{"title": {"$regex": "Go"}}`, ""},
		{"pointer to a transform value", expr.Q{"published__year__gte": &year}, `{"published": {"$gte": {"$date": "2020-01-01T00:00:00Z"}}}`, ""},
		{"slice of expressions", expr.Q{"pages__range": []expr.Expr{expr.F("chapters"), expr.Value(9)}},
			`{"pages": {"$ne": null}, "chapters": {"$ne": null}, "$expr": {"$and": [{"$gte": ["$pages", "$chapters"]}, {"$lte": ["$pages", {"$literal": 9}]}]}}`, ""},
		{"slice of constants as expressions", expr.Q{"pages__in": []expr.Expr{expr.Value(1)}}, `{"pages": {"$in": [1]}}`, ""},
	})
}
