package queryset_test

import (
	"context"
	"errors"
	"testing"

	"github.com/modjo-orm/modjo/expr"
	"github.com/modjo-orm/modjo/model"
	"github.com/modjo-orm/modjo/queryset"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Golden tests of what each method sends: the command the server received (as the
// driver's command monitor saw it, without the driver's own fields), and for the row
// methods that it is exactly what MQL() shows.

// sentJSON renders a sent command without the fields the driver adds ($db, lsid, …),
// as canonical extended JSON (which shows every number's type) and as relaxed extended
// JSON (what MQL shows).
func sentJSON(t *testing.T, cmd bson.Raw) (canonical, relaxed string) {
	t.Helper()
	elems, err := cmd.Elements()
	require.NoError(t, err)
	var d bson.D
	for _, el := range elems {
		switch el.Key() {
		case "$db", "lsid", "$clusterTime", "txnNumber", "$readPreference", "apiVersion", "autocommit", "startTransaction":
			continue
		}
		d = append(d, bson.E{Key: el.Key(), Value: el.Value()})
	}
	c, err := bson.MarshalExtJSON(d, true, false)
	require.NoError(t, err)
	r, err := bson.MarshalExtJSON(d, false, false)
	require.NoError(t, err)
	return string(c), string(r)
}

var goldenID = func() bson.ObjectID {
	id, _ := bson.ObjectIDFromHex("650000000000000000000001")
	return id
}()

func TestGoldenCommands(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	seedBooks(t, db)
	require.NoError(t, queryset.Objects[Page](db).Create(ctx, &Page{Slug: "home", Title: "Home"}))
	mdb, log := monitored(t, db)
	books := queryset.Objects[Book](mdb)
	pages := queryset.Objects[Page](mdb)

	for _, tc := range []struct {
		name string
		run  func() error
		mql  string // the QuerySet whose MQL() must equal the command sent ("" to skip)
		want string
	}{
		{
			name: "All",
			run: func() error {
				_, err := books.Filter(expr.Q{"year__gte": 1980}).OrderBy("-year").Limit(2).All(ctx)
				return err
			},
			mql:  books.Filter(expr.Q{"year__gte": 1980}).OrderBy("-year").Limit(2).MQL(),
			want: `{"find":"book","filter":{"year":{"$gte":{"$numberLong":"1980"}}},"sort":{"year":{"$numberInt":"-1"}},"limit":{"$numberLong":"2"}}`,
		},
		{
			name: "Iter with a batch size",
			run: func() error {
				for _, err := range books.Exclude(expr.Q{"shop__city": "Paris"}).BatchSize(100).Iter(ctx) {
					return err
				}
				return nil
			},
			mql:  books.Exclude(expr.Q{"shop__city": "Paris"}).BatchSize(100).MQL(),
			want: `{"find":"book","filter":{"$nor":[{"shop.city":"Paris"}]},"batchSize":{"$numberInt":"100"}}`,
		},
		{
			name: "Get drops the order and fetches two",
			run:  func() error { _, err := books.OrderBy("title").Get(ctx, expr.Q{"pk": goldenID}); return err },
			want: `{"find":"book","filter":{"_id":{"$oid":"650000000000000000000001"}},"limit":{"$numberLong":"2"}}`,
		},
		{
			name: "First orders by pk",
			run:  func() error { _, err := books.First(ctx); return err },
			want: `{"find":"book","sort":{"_id":{"$numberInt":"1"}},"limit":{"$numberLong":"1"}}`,
		},
		{
			name: "Last reverses the order",
			run:  func() error { _, err := books.OrderBy("title", "-year").Last(ctx); return err },
			want: `{"find":"book","sort":{"title":{"$numberInt":"-1"},"year":{"$numberInt":"1"}},"limit":{"$numberLong":"1"}}`,
		},
		{
			name: "Latest",
			run:  func() error { _, err := books.Latest(ctx, "published"); return err },
			want: `{"find":"book","sort":{"published":{"$numberInt":"-1"}},"limit":{"$numberLong":"1"}}`,
		},
		{
			name: "Count",
			run:  func() error { _, err := books.Filter(expr.Q{"genre": "scifi"}).Count(ctx); return err },
			want: `{"aggregate":"book","pipeline":[{"$match":{"genre":"scifi"}},{"$count":"n"}],"cursor":{}}`,
		},
		{
			name: "Count of a window",
			run:  func() error { _, err := books.Offset(1).Limit(2).Count(ctx); return err },
			want: `{"aggregate":"book","pipeline":[{"$skip":{"$numberLong":"1"}},{"$limit":{"$numberLong":"2"}},{"$count":"n"}],"cursor":{}}`,
		},
		{
			name: "Exists",
			run:  func() error { _, err := books.Filter(expr.Q{"year__lt": 1900}).Exists(ctx); return err },
			want: `{"find":"book","filter":{"year":{"$lt":{"$numberLong":"1900"}}},"projection":{"_id":{"$numberInt":"1"}},"limit":{"$numberLong":"1"}}`,
		},
		{
			name: "Contains",
			run:  func() error { _, err := pages.Contains(ctx, &Page{Slug: "home"}); return err },
			want: `{"find":"page","filter":{"_id":"home"},"projection":{"_id":{"$numberInt":"1"}},"limit":{"$numberLong":"1"}}`,
		},
		{
			name: "InBulk",
			run:  func() error { _, err := pages.InBulk(ctx, "home", "away"); return err },
			want: `{"find":"page","filter":{"_id":{"$in":["home","away"]}}}`,
		},
		{
			name: "Values",
			run:  func() error { _, err := books.OrderBy("title").Values(ctx, "title", "shop__city"); return err },
			want: `{"find":"book","sort":{"title":{"$numberInt":"1"}},"projection":{"title":{"$numberInt":"1"},"shop.city":{"$numberInt":"1"},"_id":{"$numberInt":"0"}}}`,
		},
		{
			name: "Distinct values",
			run: func() error {
				_, err := queryset.ValuesFlat[string](ctx, books.Distinct().OrderBy("author"), "author")
				return err
			},
			want: `{"aggregate":"book","pipeline":[{"$group":{"_id":{"f0":{"$ifNull":["$author",null]}}}},{"$sort":{"_id.f0":{"$numberInt":"1"}}},{"$replaceWith":{"author":"$_id.f0"}}],"cursor":{}}`,
		},
		{
			name: "Only",
			run:  func() error { _, err := books.Only("title", "year").All(ctx); return err },
			mql:  books.Only("title", "year").MQL(),
			want: `{"find":"book","projection":{"title":{"$numberInt":"1"},"year":{"$numberInt":"1"}}}`,
		},
		{
			name: "Defer",
			run:  func() error { _, err := books.Defer("tags").All(ctx); return err },
			mql:  books.Defer("tags").MQL(),
			want: `{"find":"book","projection":{"tags":{"$numberInt":"0"}}}`,
		},
		{
			name: "Update with F is a pipeline",
			run: func() error {
				_, err := books.Filter(expr.Q{"genre": "scifi"}).Update(ctx, expr.Set{"views": expr.F("views").Add(1)})
				return err
			},
			want: `{"update":"book","ordered":true,"updates":[{"q":{"genre":"scifi"},"u":[{"$set":{"views":{"$toLong":{"$add":["$views",{"$literal":{"$numberInt":"1"}}]}}}}],"multi":true}]}`,
		},
		{
			name: "Update with values",
			run: func() error {
				_, err := books.Filter(expr.Q{"pk": goldenID}).Update(ctx, expr.Set{"title": "$set"})
				return err
			},
			want: `{"update":"book","ordered":true,"updates":[{"q":{"_id":{"$oid":"650000000000000000000001"}},"u":{"$set":{"title":"$set"}},"multi":true}]}`,
		},
		{
			name: "Delete",
			run:  func() error { _, _, err := books.Filter(expr.Q{"year__gt": 3000}).Delete(ctx); return err },
			want: `{"delete":"book","ordered":true,"deletes":[{"q":{"year":{"$gt":{"$numberLong":"3000"}}},"limit":{"$numberInt":"0"}}]}`,
		},
		{
			name: "GetOrCreate upserts after a get",
			run: func() error {
				_, _, err := pages.Filter(expr.Q{"pk": "about"}).GetOrCreate(ctx, expr.Set{"title": "About"})
				return err
			},
			want: `{"findAndModify":"page","query":{"_id":"about"},"update":{"$setOnInsert":{"title":"About"}},"upsert":true,"new":true}`,
		},
		{
			name: "UpdateOrCreate is one findAndModify",
			run: func() error {
				_, _, err := pages.Filter(expr.Q{"pk": "about"}).UpdateOrCreate(ctx, expr.Set{"title": "About us"})
				return err
			},
			want: `{"findAndModify":"page","query":{"_id":"about"},"update":{"$set":{"title":"About us"}},"upsert":true,"new":true}`,
		},
		{
			name: "BulkUpdate",
			run: func() error {
				_, err := pages.BulkUpdate(ctx, []*Page{{Slug: "home", Title: "Start"}}, []string{"title"})
				return err
			},
			want: `{"update":"page","ordered":true,"updates":[{"q":{"_id":"home"},"u":{"$set":{"title":"Start"}}}]}`,
		},
		{
			name: "Explain",
			run:  func() error { _, err := books.Filter(expr.Q{"year": 1965}).Explain(ctx); return err },
			want: `{"explain":{"find":"book","filter":{"year":{"$numberLong":"1965"}}},"verbosity":"queryPlanner"}`,
		},
	} {
		log.reset()
		if err := tc.run(); !errors.Is(err, model.ErrDoesNotExist) {
			require.NoError(t, err, tc.name)
		}
		canonical, relaxed := sentJSON(t, log.last())
		assert.Equal(t, tc.want, canonical, tc.name)
		if tc.mql != "" {
			assert.Equal(t, relaxed, tc.mql, "%s: MQL() shows what runs", tc.name)
		}
	}
}

func TestMQLShowsTheCompiledForm(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	books := queryset.Objects[Book](db)
	for _, tc := range []struct {
		qs   *queryset.QuerySet[Book]
		want string
	}{
		{books, `{"find":"book"}`},
		{books.Filter(expr.Q{"title__icontains": "a.b"}).Exclude(expr.Q{"rating__gt": 4}),
			`{"find":"book","filter":{"title":{"$regex":"a\\.b","$options":"i"},"$nor":[{"rating":{"$gt":4.0}}]}}`},
		{books.OrderBy("?").Limit(3), `{"aggregate":"book","pipeline":[{"$addFields":{"__modjo_r":{"$rand":{}}}},{"$sort":{"__modjo_r":1}},{"$limit":3},{"$unset":["__modjo_r"]}],"cursor":{}}`},
		{books.Slice(10, 20), `{"find":"book","skip":10,"limit":10}`},
		{books.None(), `{"find":"book","filter":{"_id":{"$in":[]}}}`},
		{books.Limit(-1), `error: modjo: Limit Book: negative limit -1`},
	} {
		assert.Equal(t, tc.want, tc.qs.MQL())
		assert.Equal(t, tc.want, tc.qs.String())
	}
}
