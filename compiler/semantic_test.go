package compiler

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/modjo-orm/modjo/expr"
	"github.com/modjo-orm/modjo/fields"
	"github.com/modjo-orm/modjo/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Semantic tests: the compiled commands run through the driver against the test server
// (mongotest, or real MongoDB with MONGODB_URI), and the documents that come back are
// checked against Django's documented results, with null, missing, type mismatches,
// unicode and boundaries in the data.

func ts(s string) bson.DateTime {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return bson.NewDateTimeFromTime(t)
}

func tod(h, m, s, us int) int64 { return int64(fields.NewTimeOfDay(h, m, s, us)) }

var (
	uuidGo = bson.Binary{Subtype: 4, Data: uuid[:]}
	oidGo  = bson.ObjectID{1}
	dec    = func(s string) bson.Decimal128 { d, _ := bson.ParseDecimal128(s); return d }
)

// bookDocs are stored as a program (or another client) could have written them.
func bookDocs(withBad bool) []any {
	docs := []any{
		bson.D{{Key: "_id", Value: "go"}, {Key: "title", Value: "Go in Action"}, {Key: "writer", Value: "Ann"}, {Key: "status", Value: "draft"},
			{Key: "pages", Value: int32(300)}, {Key: "chapters", Value: int32(10)}, {Key: "views", Value: int64(1000)},
			{Key: "rating", Value: 4.5}, {Key: "price", Value: dec("12.50")},
			{Key: "published", Value: ts("2020-03-15T10:30:00Z")}, {Key: "released", Value: ts("2020-03-15T00:00:00Z")},
			{Key: "opens", Value: tod(9, 30, 0, 0)}, {Key: "length", Value: int64(90 * time.Minute)}, {Key: "active", Value: true},
			{Key: "code", Value: uuidGo}, {Key: "blob", Value: bson.Binary{Data: []byte{1, 2}}}, {Key: "ref", Value: oidGo},
			{Key: "data", Value: bson.D{{Key: "a", Value: int32(1)}}}, {Key: "tags", Value: bson.A{"x", "y"}},
			{Key: "shop", Value: bson.D{{Key: "city", Value: "Paris"}, {Key: "street", Value: nil}, {Key: "zip", Value: int32(75001)},
				{Key: "geo", Value: bson.D{{Key: "lat", Value: 48.85}, {Key: "lng", Value: 2.35}}}}}},
		bson.D{{Key: "_id", Value: "py"}, {Key: "title", Value: "Python Tricks"}, {Key: "writer", Value: "bob"}, {Key: "status", Value: "published"},
			{Key: "pages", Value: int32(150)}, {Key: "chapters", Value: int32(30)}, {Key: "views", Value: int64(10)},
			{Key: "rating", Value: 3.0}, {Key: "price", Value: dec("9.99")},
			{Key: "published", Value: ts("2020-12-31T23:59:59.999Z")}, {Key: "released", Value: ts("2021-01-01T00:00:00Z")},
			{Key: "opens", Value: tod(23, 59, 59, 999999)}, {Key: "length", Value: int64(30 * time.Minute)}, {Key: "active", Value: false},
			{Key: "data", Value: nil}, {Key: "tags", Value: bson.A{"y"}},
			{Key: "shop", Value: bson.D{{Key: "city", Value: "paris"}, {Key: "zip", Value: int32(69000)}}}},
		bson.D{{Key: "_id", Value: "rs"}, {Key: "title", Value: "Rust: a.b$c*(d) [x]"}, {Key: "writer", Value: "$where"}, {Key: "status", Value: "draft"},
			{Key: "pages", Value: int32(0)}, {Key: "chapters", Value: int32(0)}, {Key: "views", Value: int64(5)},
			{Key: "rating", Value: 5.0}, {Key: "price", Value: dec("0")},
			{Key: "published", Value: ts("2021-01-01T00:00:00Z")}, {Key: "released", Value: ts("2019-12-30T00:00:00Z")},
			{Key: "opens", Value: int64(0)}, {Key: "length", Value: int64(0)}, {Key: "active", Value: true},
			{Key: "data", Value: bson.D{{Key: "k", Value: "$where"}}},
			{Key: "shop", Value: bson.D{{Key: "city", Value: "Lyon"}}}},
		bson.D{{Key: "_id", Value: "uni"}, {Key: "title", Value: "Ünïcode — straße 日本"}, {Key: "writer", Value: "ANN"}, {Key: "status", Value: "published"},
			{Key: "pages", Value: int32(100)}, {Key: "chapters", Value: int32(20)},
			{Key: "published", Value: ts("2019-12-29T12:00:00Z")}, {Key: "released", Value: ts("2019-12-29T00:00:00Z")},
			{Key: "opens", Value: tod(12, 0, 0, 0)}, {Key: "length", Value: int64(13 * time.Hour)},
			{Key: "shop", Value: bson.D{{Key: "city", Value: "Zürich"}}}},
		bson.D{{Key: "_id", Value: "nl"}, {Key: "title", Value: "line\n"}, {Key: "writer", Value: "x"}, {Key: "pages", Value: int32(5)}, {Key: "chapters", Value: int32(5)}},
		bson.D{{Key: "_id", Value: "null"}, {Key: "title", Value: nil}, {Key: "writer", Value: nil}, {Key: "status", Value: nil}, {Key: "pages", Value: nil},
			{Key: "chapters", Value: nil}, {Key: "views", Value: nil}, {Key: "rating", Value: nil}, {Key: "published", Value: nil},
			{Key: "released", Value: nil}, {Key: "opens", Value: nil}, {Key: "length", Value: nil}, {Key: "active", Value: nil},
			{Key: "tags", Value: nil}, {Key: "shop", Value: nil}, {Key: "branch", Value: nil}},
		bson.D{{Key: "_id", Value: "missing"}},
	}
	if withBad {
		// Types the model does not store: query operators bracket types, so these never
		// match a comparison with a value of another type.
		docs = append(docs, bson.D{{Key: "_id", Value: "bad"}, {Key: "title", Value: int32(42)}, {Key: "writer", Value: true},
			{Key: "pages", Value: "300"}, {Key: "rating", Value: "x"}, {Key: "published", Value: "2020-03-15"}, {Key: "active", Value: "true"}})
	}
	return docs
}

func insertBooks(t *testing.T, withBad bool) *mongo.Database {
	t.Helper()
	db := testenv.Database(t)
	_, err := db.Collection("books").InsertMany(context.Background(), bookDocs(withBad))
	require.NoError(t, err)
	return db
}

// run executes a command and returns the documents.
func run(t *testing.T, db *mongo.Database, cmd *Command) []bson.Raw {
	t.Helper()
	cur, err := db.RunCommandCursor(context.Background(), cmd.Doc)
	require.NoError(t, err, cmd.String())
	var out []bson.Raw
	for cur.Next(context.Background()) {
		out = append(out, slices.Clone(cur.Current))
	}
	require.NoError(t, cur.Err())
	return out
}

func ids(docs []bson.Raw) []string {
	out := []string{}
	for _, d := range docs {
		out = append(out, d.Lookup("_id").StringValue())
	}
	return out
}

type semCase struct {
	name  string
	where expr.Condition
	want  []string
}

func runSemantic(t *testing.T, db *mongo.Database, cases []semCase) {
	t.Helper()
	m := metaOf(t, Book{})
	for _, c := range cases {
		cmd, err := Select(&Query{Meta: m, Where: c.where})
		if !assert.NoError(t, err, c.name) {
			continue
		}
		got := ids(run(t, db, cmd))
		assert.ElementsMatch(t, c.want, got, "%s: %s", c.name, cmd)
	}
}

var all = []string{"go", "py", "rs", "uni", "nl", "null", "missing", "bad"}

func except(xs ...string) []string {
	var out []string
	for _, a := range all {
		if !slices.Contains(xs, a) {
			out = append(out, a)
		}
	}
	return out
}

func TestSemanticPlainLookups(t *testing.T) {
	t.Parallel()
	db := insertBooks(t, true)
	runSemantic(t, db, []semCase{
		{"exact", expr.Q{"title": "Go in Action"}, []string{"go"}},
		{"exact is case-sensitive", expr.Q{"title": "go in action"}, nil},
		{"iexact", expr.Q{"title__iexact": "go in ACTION"}, []string{"go"}},
		{"iexact is whole", expr.Q{"title__iexact": "go"}, nil},
		{"iexact unicode", expr.Q{"author__iexact": "ann"}, []string{"go", "uni"}},
		{"contains metacharacters literally", expr.Q{"title__contains": "a.b$c*(d) [x]"}, []string{"rs"}},
		{"contains dot", expr.Q{"title__contains": "."}, []string{"rs"}},
		{"contains is case-sensitive", expr.Q{"title__contains": "action"}, nil},
		{"icontains", expr.Q{"title__icontains": "ACTION"}, []string{"go"}},
		{"icontains unicode", expr.Q{"title__icontains": "ÜNÏ"}, []string{"uni"}},
		{"contains empty matches strings only", expr.Q{"title__contains": ""}, []string{"go", "py", "rs", "uni", "nl"}},
		{"startswith", expr.Q{"title__startswith": "Py"}, []string{"py"}},
		{"startswith is anchored", expr.Q{"title__startswith": "ython"}, nil},
		{"istartswith", expr.Q{"title__istartswith": "py"}, []string{"py"}},
		{"startswith dollar", expr.Q{"author__startswith": "$"}, []string{"rs"}},
		{"endswith", expr.Q{"title__endswith": "[x]"}, []string{"rs"}},
		{"endswith is at the very end", expr.Q{"title__endswith": "line"}, nil},
		{"endswith newline", expr.Q{"title__endswith": "line\n"}, []string{"nl"}},
		{"iendswith", expr.Q{"title__iendswith": "ACTION"}, []string{"go"}},
		{"in", expr.Q{"title__in": []any{"Python Tricks", "nope", nil}}, []string{"py"}},
		{"in of operator-looking values", expr.Q{"author__in": []string{"$where", "bob"}}, []string{"rs", "py"}},
		{"in empty", expr.Q{"title__in": []string{}}, nil},
		{"gt never matches null or other types", expr.Q{"title__gt": "R"}, []string{"rs", "nl", "uni"}},
		{"lte", expr.Q{"title__lte": "Python Tricks"}, []string{"go", "py"}},
		{"range", expr.Q{"title__range": []string{"A", "Q"}}, []string{"go", "py"}},
		{"isnull", expr.Q{"title__isnull": true}, []string{"null", "missing"}},
		{"not isnull", expr.Q{"title__isnull": false}, except("null", "missing")},
		{"exact nil", expr.Q{"author": nil}, []string{"null", "missing"}},
		{"regex", expr.Q{"title__regex": "^[GP]"}, []string{"go", "py"}},
		{"iregex", expr.Q{"title__iregex": "^g"}, []string{"go"}},
		{"value that looks like an operator", expr.Q{"author": "$where"}, []string{"rs"}},

		{"exclude keeps null and missing", expr.Not(expr.Q{"title": "Go in Action"}), except("go")},
		{"exclude contains", expr.Not(expr.Q{"title__contains": "o"}), []string{"rs", "nl", "null", "missing", "bad"}},
		{"exclude gt", expr.Not(expr.Q{"pages__gt": 100}), []string{"rs", "uni", "nl", "null", "missing", "bad"}},
		{"exclude isnull", expr.Not(expr.Q{"author__isnull": true}), []string{"go", "py", "rs", "uni", "nl", "bad"}},
		{"exclude in", expr.Not(expr.Q{"pages__in": []int{0, 5}}), except("rs", "nl")},

		{"numbers", expr.Q{"pages__gt": 100}, []string{"go", "py"}},
		{"numbers lt", expr.Q{"pages__lt": 1}, []string{"rs"}},
		{"fraction against integers", expr.Q{"pages__gte": 1.5}, []string{"go", "py", "uni", "nl"}},
		{"beyond int32", expr.Q{"pages__lt": int64(1) << 40}, []string{"go", "py", "rs", "uni", "nl"}},
		{"in numbers", expr.Q{"pages__in": []int{0, 5}}, []string{"rs", "nl"}},
		{"range numbers", expr.Q{"pages__range": []int{100, 150}}, []string{"py", "uni"}},
		{"int64 field against an int", expr.Q{"views__gt": 9}, []string{"go", "py"}},
		{"float", expr.Q{"rating__gt": 4}, []string{"go", "rs"}},
		{"decimal", expr.Q{"price__gte": "9.99"}, []string{"go", "py"}},
		{"decimal lt", expr.Q{"price__lt": 1}, []string{"rs"}},
		{"bool", expr.Q{"active": true}, []string{"go", "rs"}},
		{"bool false", expr.Q{"active": false}, []string{"py"}},
		{"exclude bool", expr.Not(expr.Q{"active": true}), except("go", "rs")},
		{"uuid", expr.Q{"code": uuid}, []string{"go"}},
		{"binary", expr.Q{"blob": []byte{1, 2}}, []string{"go"}},
		{"object id", expr.Q{"ref__gt": bson.ObjectID{}}, []string{"go"}},
		{"duration", expr.Q{"length__gte": 30 * time.Minute}, []string{"go", "py", "uni"}},
		{"time of day", expr.Q{"opens__lt": fields.NewTimeOfDay(10, 0, 0, 0)}, []string{"go", "rs"}},

		{"json document", expr.Q{"data": map[string]any{"a": 1}}, []string{"go"}},
		{"json operator-looking value", expr.Q{"data": map[string]any{"k": "$where"}}, []string{"rs"}},
		{"json null is a value", expr.Q{"data": fields.JSONNull}, []string{"py"}},
		{"json isnull is a missing key", expr.Q{"data__isnull": true}, []string{"uni", "nl", "null", "missing", "bad"}},
		{"json not isnull", expr.Q{"data__isnull": false}, []string{"go", "py", "rs"}},
		{"array", expr.Q{"tags": []string{"x", "y"}}, []string{"go"}},
		{"array order matters", expr.Q{"tags": []string{"y", "x"}}, nil},
		{"array isnull", expr.Q{"tags__isnull": true}, except("go", "py")},

		{"embedded sub-field", expr.Q{"shop__city": "Paris"}, []string{"go"}},
		{"embedded iexact", expr.Q{"shop__city__iexact": "PARIS"}, []string{"go", "py"}},
		{"embedded unicode", expr.Q{"shop__city__istartswith": "zü"}, []string{"uni"}},
		{"embedded null parent is null", expr.Q{"shop__city__isnull": true}, []string{"nl", "null", "missing", "bad"}},
		{"embedded number", expr.Q{"shop__zip__gt": 70000}, []string{"go"}},
		{"embedded two levels", expr.Q{"shop__geo__lat__gt": 40}, []string{"go"}},
		{"embedded whole document", expr.Q{"shop": Address{City: "Paris", Zip: 75001, Geo: &Geo{Lat: 48.85, Lng: 2.35}}}, []string{"go"}},
		{"embedded exclude keeps null", expr.Not(expr.Q{"shop__city": "Paris"}), except("go")},
	})
}

func TestSemanticDateTransforms(t *testing.T) {
	t.Parallel()
	db := insertBooks(t, true)
	runSemantic(t, db, []semCase{
		// Range rewrites, with a string in "bad" that type bracketing ignores.
		{"year includes the last millisecond", expr.Q{"published__year": 2020}, []string{"go", "py"}},
		{"year gt", expr.Q{"published__year__gt": 2020}, []string{"rs"}},
		{"year gte", expr.Q{"published__year__gte": 2020}, []string{"go", "py", "rs"}},
		{"year lt", expr.Q{"published__year__lt": 2020}, []string{"uni"}},
		{"year lte", expr.Q{"published__year__lte": 2019}, []string{"uni"}},
		{"year range", expr.Q{"published__year__range": []int{2019, 2020}}, []string{"go", "py", "uni"}},
		{"year in", expr.Q{"published__year__in": []int{2019, 2021}}, []string{"uni", "rs"}},
		{"exclude year keeps null", expr.Not(expr.Q{"published__year": 2020}), except("go", "py")},
		{"iso_year", expr.Q{"published__iso_year": 2020}, []string{"go", "py", "rs"}},
		{"iso_year of dates", expr.Q{"released__iso_year": 2020}, []string{"go", "py", "rs"}},
		{"iso_year lt", expr.Q{"released__iso_year__lt": 2020}, []string{"uni"}},
		{"year of dates", expr.Q{"released__year": 2021}, []string{"py"}},
		{"date", expr.Q{"published__date": "2020-12-31"}, []string{"py"}},
		{"date gte", expr.Q{"published__date__gte": fields.Date{Year: 2021, Month: 1, Day: 1}}, []string{"rs"}},
		{"date gt", expr.Q{"published__date__gt": "2020-12-31"}, []string{"rs"}},
		{"date lt", expr.Q{"published__date__lt": "2020-03-15"}, []string{"uni"}},
		{"date lte", expr.Q{"published__date__lte": "2020-03-15"}, []string{"go", "uni"}},
		{"date range", expr.Q{"published__date__range": []string{"2020-03-15", "2020-12-31"}}, []string{"go", "py"}},
		{"date in", expr.Q{"published__date__in": []string{"2020-03-15", "2021-01-01"}}, []string{"go", "rs"}},
		{"exact time", expr.Q{"published": time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)}, []string{"rs"}},
		{"gt time", expr.Q{"published__gt": time.Date(2020, 12, 31, 23, 59, 59, 998e6, time.UTC)}, []string{"py", "rs"}},
		{"date field exact", expr.Q{"released": fields.Date{Year: 2020, Month: 3, Day: 15}}, []string{"go"}},
		{"hour of a time", expr.Q{"opens__hour": 9}, []string{"go"}},
		{"hour of a time gte", expr.Q{"opens__hour__gte": 12}, []string{"py", "uni"}},
		{"hour of a time lt", expr.Q{"opens__hour__lt": 1}, []string{"rs"}},
		{"isnull", expr.Q{"published__isnull": true}, []string{"nl", "null", "missing"}},
	})
}

// Transforms in $expr and F comparisons read stored values with aggregation operators,
// which fail on values of another type: the model never stores those, so these tests use
// data without the "bad" document.
func TestSemanticExpressions(t *testing.T) {
	t.Parallel()
	db := insertBooks(t, false)
	clean := func(xs ...string) []string { return xs }
	runSemantic(t, db, []semCase{
		{"month", expr.Q{"published__month": 12}, clean("py", "uni")},
		{"month in", expr.Q{"published__month__in": []int{1, 3}}, clean("go", "rs")},
		{"month range", expr.Q{"published__month__range": []int{2, 11}}, clean("go")},
		{"exclude month keeps null", expr.Not(expr.Q{"published__month": 12}), clean("go", "rs", "nl", "null", "missing")},
		{"day", expr.Q{"published__day": 31}, clean("py")},
		{"day gte", expr.Q{"published__day__gte": 29}, clean("py", "uni")},
		{"day lt never matches null", expr.Q{"published__day__lt": 2}, clean("rs")},
		{"week is ISO", expr.Q{"published__week": 53}, clean("py", "rs")},
		{"week 52", expr.Q{"published__week": 52}, clean("uni")},
		{"week 11", expr.Q{"published__week": 11}, clean("go")},
		{"week_day 1 is Sunday", expr.Q{"published__week_day": 1}, clean("go", "uni")},
		{"week_day 5 is Thursday", expr.Q{"published__week_day": 5}, clean("py")},
		{"week_day 6 is Friday", expr.Q{"published__week_day": 6}, clean("rs")},
		{"week_day of dates", expr.Q{"released__week_day": 2}, clean("rs")},
		{"iso_week_day 7 is Sunday", expr.Q{"published__iso_week_day": 7}, clean("go", "uni")},
		{"iso_week_day 4 is Thursday", expr.Q{"published__iso_week_day": 4}, clean("py")},
		{"quarter", expr.Q{"published__quarter": 4}, clean("py", "uni")},
		{"quarter 1", expr.Q{"published__quarter": 1}, clean("go", "rs")},
		{"time gte", expr.Q{"published__time__gte": fields.NewTimeOfDay(12, 0, 0, 0)}, clean("py", "uni")},
		{"time lt", expr.Q{"published__time__lt": "10:30"}, clean("rs")},
		{"time exact", expr.Q{"published__time": "10:30"}, clean("go")},
		{"time last millisecond", expr.Q{"published__time": "23:59:59.999"}, clean("py")},
		{"hour", expr.Q{"published__hour": 23}, clean("py")},
		{"hour lt never matches null", expr.Q{"published__hour__lt": 11}, clean("go", "rs")},
		{"minute", expr.Q{"published__minute": 30}, clean("go")},
		{"second", expr.Q{"published__second": 59}, clean("py")},
		{"minute of a time", expr.Q{"opens__minute": 59}, clean("py")},
		{"second of a time", expr.Q{"opens__second__gte": 59}, clean("py")},
		{"minute of a time 30", expr.Q{"opens__minute": 30}, clean("go")},
		{"date then year", expr.Q{"published__date__year": 2020}, clean("go", "py")},
		{"time then hour", expr.Q{"published__time__hour__gte": 12}, clean("py", "uni")},

		{"F gt", expr.Q{"pages__gt": expr.F("chapters")}, clean("go", "py", "uni")},
		{"F exact: null is not equal to null", expr.Q{"pages": expr.F("chapters")}, clean("rs", "nl")},
		{"exclude F exact keeps null", expr.Not(expr.Q{"pages": expr.F("chapters")}), clean("go", "py", "uni", "null", "missing")},
		{"F lt never matches null", expr.Q{"chapters__lt": expr.F("pages")}, clean("go", "py", "uni")},
		{"F arithmetic", expr.Q{"pages__gt": expr.F("chapters").Mul(10)}, clean("go")},
		{"F add", expr.Q{"pages__lt": expr.F("chapters").Add(1)}, clean("rs", "nl")},
		{"F in", expr.Q{"pages__in": []any{expr.F("chapters"), 150}}, clean("py", "rs", "nl")},
		{"date plus duration", expr.Q{"published__gt": expr.F("released").Add(12 * time.Hour)}, clean("rs")},
		{"date difference", expr.Q{"length__gt": expr.F("published").Sub(expr.F("released"))}, clean("py", "uni")},
		{"transform against F", expr.Q{"published__month": expr.F("chapters")}, nil},
	})
	// A string constant in an expression is data: it matches itself, not the field.
	m := metaOf(t, Book{})
	cmd, err := Select(&Query{Meta: m, Where: expr.Q{"author__in": []any{expr.F("status"), "$author"}}})
	require.NoError(t, err)
	assert.Empty(t, ids(run(t, db, cmd)), cmd.String())
}

func TestSemanticCompositeAndPK(t *testing.T) {
	t.Parallel()
	db := testenv.Database(t)
	ctx := context.Background()
	_, err := db.Collection("line").InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: bson.D{{Key: "order", Value: int32(7)}, {Key: "n", Value: int32(2)}}}, {Key: "qty", Value: int32(1)}},
		bson.D{{Key: "_id", Value: bson.D{{Key: "order", Value: int32(7)}, {Key: "n", Value: int32(3)}}}, {Key: "qty", Value: int32(2)}},
		bson.D{{Key: "_id", Value: bson.D{{Key: "order", Value: int32(8)}, {Key: "n", Value: int32(2)}}}, {Key: "qty", Value: int32(3)}},
	})
	require.NoError(t, err)
	m := metaOf(t, Line{})
	qty := func(where expr.Condition) []int32 {
		cmd, err := Select(&Query{Meta: m, Where: where, Order: []any{"qty"}})
		require.NoError(t, err)
		var out []int32
		for _, d := range run(t, db, cmd) {
			out = append(out, d.Lookup("qty").Int32())
		}
		return out
	}
	assert.Equal(t, []int32{1}, qty(expr.Q{"pk": []any{7, 2}}))
	assert.Equal(t, []int32{1}, qty(expr.Q{"pk": []any{int64(7), 2.0}}), "numbers compare by value")
	assert.Equal(t, []int32{1, 3}, qty(expr.Q{"pk__in": [][2]int{{7, 2}, {8, 2}}}))
	assert.Equal(t, []int32{1, 2}, qty(expr.Q{"order": 7}))
	assert.Equal(t, []int32{2}, qty(expr.Q{"no__gt": 2}))
	assert.Equal(t, []int32{2, 3}, qty(expr.Not(expr.Q{"pk": bson.D{{Key: "order", Value: 7}, {Key: "no", Value: 2}}})))

	bm := metaOf(t, Book{})
	a, b := bson.NewObjectID(), bson.NewObjectID()
	_, err = db.Collection("books").InsertMany(ctx, []any{bson.D{{Key: "_id", Value: a}}, bson.D{{Key: "_id", Value: b}}})
	require.NoError(t, err)
	for _, where := range []expr.Condition{expr.Q{"pk": a}, expr.Q{"id": a.Hex()}, expr.Q{"pk__in": []bson.ObjectID{a}}, expr.Not(expr.Q{"pk": b})} {
		cmd, err := Select(&Query{Meta: bm, Where: where})
		require.NoError(t, err)
		docs := run(t, db, cmd)
		require.Len(t, docs, 1, cmd.String())
		assert.Equal(t, a, docs[0].Lookup("_id").ObjectID())
	}
}

// values returns a field of each document, nil for null or missing.
func values(docs []bson.Raw, path ...string) []any {
	var out []any
	for _, d := range docs {
		v, err := d.LookupErr(path...)
		if err != nil || v.Type == bson.TypeNull {
			out = append(out, nil)
			continue
		}
		switch v.Type {
		case bson.TypeInt32:
			out = append(out, int64(v.Int32()))
		case bson.TypeInt64:
			out = append(out, v.Int64())
		case bson.TypeString:
			out = append(out, v.StringValue())
		default:
			out = append(out, v.String())
		}
	}
	return out
}

func TestSemanticOrderingAndShapes(t *testing.T) {
	t.Parallel()
	db := insertBooks(t, false)
	m := metaOf(t, Book{})
	sel := func(q Query) []bson.Raw {
		t.Helper()
		q.Meta = m
		cmd, err := Select(&q)
		require.NoError(t, err)
		return run(t, db, cmd)
	}
	hasChapters := expr.Q{"pages__lt": 1000} // every book but null and missing (and not "bad")
	n := func(xs ...any) []any { return xs }

	// MongoDB's default: nulls first ascending, last descending.
	got := values(sel(Query{Order: []any{"chapters", "pk"}}), "chapters")
	assert.Equal(t, n(nil, nil, int64(0), int64(5), int64(10), int64(20), int64(30)), got)
	got = values(sel(Query{Order: []any{expr.F("chapters").Asc().NullsLast(), "pk"}}), "chapters")
	assert.Equal(t, n(int64(0), int64(5), int64(10), int64(20), int64(30), nil, nil), got)
	got = values(sel(Query{Order: []any{expr.F("chapters").Desc().NullsFirst(), "pk"}}), "chapters")
	assert.Equal(t, n(nil, nil, int64(30), int64(20), int64(10), int64(5), int64(0)), got)
	got = values(sel(Query{Order: []any{expr.F("chapters").Desc().NullsFirst(), "pk"}, Reverse: true}), "chapters")
	assert.Equal(t, n(int64(0), int64(5), int64(10), int64(20), int64(30), nil, nil), got, "reversed: ascending, nulls last")
	docs := sel(Query{Order: []any{expr.F("chapters").Asc().NullsLast()}, Limit: 2, Offset: 1})
	assert.Equal(t, n(int64(5), int64(10)), values(docs, "chapters"))
	for _, d := range docs {
		_, err := d.LookupErr("__modjo_n0")
		assert.Error(t, err, "helper keys are removed")
	}

	// Expression ordering: pages - chapters, descending.
	got = values(sel(Query{Where: hasChapters, Order: []any{expr.F("pages").Sub(expr.F("chapters")).Desc()}}), "_id")
	assert.Equal(t, n("go", "py", "uni", "rs", "nl")[:3], got[:3])
	assert.ElementsMatch(t, n("rs", "nl"), got[3:], "both differences are 0")

	// Random order returns every document once, without the helper key.
	docs = sel(Query{Order: []any{"?"}})
	assert.ElementsMatch(t, []string{"go", "py", "rs", "uni", "nl", "null", "missing"}, ids(docs))
	for _, d := range docs {
		_, err := d.LookupErr("__modjo_r")
		assert.Error(t, err)
	}

	// Only and Defer project; Values select paths.
	docs = sel(Query{Where: expr.Q{"title": "Go in Action"}, Only: []string{"title"}})
	require.Len(t, docs, 1)
	keys := func(d bson.Raw) []string {
		elems, _ := d.Elements()
		var ks []string
		for _, e := range elems {
			ks = append(ks, e.Key())
		}
		return ks
	}
	assert.Equal(t, []string{"_id", "title"}, keys(docs[0]))
	docs = sel(Query{Where: expr.Q{"author": "$where"}, Defer: []string{"data", "shop", "title"}, Order: []any{"?"}})
	require.Len(t, docs, 1)
	assert.NotContains(t, keys(docs[0]), "data")
	assert.NotContains(t, keys(docs[0]), "__modjo_r")
	assert.Contains(t, keys(docs[0]), "writer")
	docs = sel(Query{Where: hasChapters, Fields: []string{"title", "shop__city"}, Order: []any{"pages"}})
	assert.Equal(t, n("Lyon", nil, "Zürich", "paris", "Paris"), values(docs, "shop", "city"))
	assert.Equal(t, []string{"title", "shop"}, keys(docs[0]))

	// Distinct values: one row per status (null and missing are one), ordered.
	docs = sel(Query{Distinct: true, Fields: []string{"status"}, Order: []any{"status"}})
	assert.Equal(t, n(nil, "draft", "published"), values(docs, "status"))
	// Django adds the ordering to DISTINCT: status ordered by -pages gives a row per pages.
	docs = sel(Query{Distinct: true, Fields: []string{"status"}, Order: []any{"-pages"}, Where: hasChapters})
	assert.Equal(t, n("draft", "published", "published", nil, "draft"), values(docs, "status"))
	docs = sel(Query{Distinct: true, Fields: []string{"shop__city"}, Order: []any{expr.F("shop__city").Asc().NullsLast()}})
	assert.Equal(t, n("Lyon", "Paris", "Zürich", "paris", nil), values(docs, "shop", "city"))

	// DistinctOn: the first book of each status by -published.
	docs = sel(Query{DistinctOn: []string{"status"}, Order: []any{"status", "-published"}})
	assert.Equal(t, n("missing", "rs", "py")[1:], values(docs, "_id")[1:])
	assert.Contains(t, n("nl", "null", "missing"), values(docs, "_id")[0], "one of the books without a status")
	docs = sel(Query{DistinctOn: []string{"status"}, Order: []any{"status", "published"}, Fields: []string{"title"}, Offset: 1})
	assert.Equal(t, n("Go in Action", "Ünïcode — straße 日本"), values(docs, "title"))

	// Count and Exists agree with Select.
	count := func(q Query) int64 {
		q.Meta = m
		cmd, err := Count(&q)
		require.NoError(t, err)
		docs := run(t, db, cmd)
		if len(docs) == 0 {
			return 0
		}
		return values(docs, CountKey)[0].(int64)
	}
	exists := func(q Query) bool {
		q.Meta = m
		cmd, err := Exists(&q)
		require.NoError(t, err)
		return len(run(t, db, cmd)) > 0
	}
	for _, q := range []Query{
		{}, {Where: hasChapters}, {Where: hasChapters, Offset: 2, Limit: 2}, {Offset: 10}, {Empty: true},
		{Distinct: true, Fields: []string{"status"}}, {Distinct: true, Fields: []string{"status"}, Offset: 2},
		{Distinct: true, Fields: []string{"status"}, Offset: 3}, {DistinctOn: []string{"status"}, Limit: 2},
		{Where: expr.Q{"title": "nope"}},
	} {
		rows := len(sel(q))
		assert.Equal(t, int64(rows), count(q), "%+v", q)
		assert.Equal(t, rows > 0, exists(q), "%+v", q)
	}
}

func TestSemanticUpdate(t *testing.T) {
	t.Parallel()
	db := insertBooks(t, false)
	m := metaOf(t, Book{})
	ctx := context.Background()
	// The test documents have string _ids; the model's are ObjectIDs, so filter by hand.
	filter := bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{"go", "py", "null"}}}}}
	upd, err := UpdateDoc(m, expr.Set{"views": expr.F("views").Add(1), "pages": expr.F("pages").Div(4), "title": "$pages",
		"released": expr.F("published"), "data": nil})
	require.NoError(t, err)
	res, err := db.Collection("books").UpdateMany(ctx, filter, upd)
	require.NoError(t, err)
	assert.Equal(t, int64(3), res.MatchedCount)

	get := func(id string) bson.Raw {
		r, err := db.Collection("books").FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Raw()
		require.NoError(t, err)
		return r
	}
	g := get("go")
	assert.Equal(t, int64(1001), g.Lookup("views").Int64(), "int64 stays int64")
	assert.Equal(t, int32(75), g.Lookup("pages").Int32(), "300/4 back to int32")
	assert.Equal(t, "$pages", g.Lookup("title").StringValue(), "a constant is data")
	assert.Equal(t, int64(ts("2020-03-15T00:00:00Z")), g.Lookup("released").DateTime(), "a DateField keeps the day")
	_, err = g.LookupErr("data")
	assert.Error(t, err, "unset")
	p := get("py")
	assert.Equal(t, int32(37), p.Lookup("pages").Int32(), "150/4 truncates like an SQL cast")
	n := get("null")
	assert.Equal(t, bson.TypeNull, n.Lookup("views").Type, "null + 1 is null")
	assert.Equal(t, bson.TypeNull, n.Lookup("pages").Type)

	// A plain update document.
	upd, err = UpdateDoc(m, expr.Set{"author": nil, "shop__city": "Nice", "tags": []string{"z"}})
	require.NoError(t, err)
	filter, err = FilterDoc(m, expr.Q{"author": "$where"})
	require.NoError(t, err)
	_, err = db.Collection("books").UpdateOne(ctx, filter, upd)
	require.NoError(t, err)
	r := get("rs")
	assert.Equal(t, bson.TypeNull, r.Lookup("writer").Type)
	assert.Equal(t, "Nice", r.Lookup("shop", "city").StringValue())
	assert.Equal(t, bson.TypeArray, r.Lookup("tags").Type)
}
