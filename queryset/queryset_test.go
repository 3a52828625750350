package queryset

import (
	"errors"
	"math"
	"sync"
	"testing"

	"github.com/modjo-orm/modjo"
	"github.com/modjo-orm/modjo/expr"
	"github.com/modjo-orm/modjo/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Unit tests of the QuerySet's state: no server is contacted.

type stateBook struct {
	model.Model
	Title string
	Year  int
}

type stateOrdered struct {
	model.Model
	Name string
}

func (stateOrdered) Meta() model.Options { return model.Options{Ordering: []string{"name"}} }

type stateAddress struct {
	model.Embedded
	City string
}

func stateDB(t *testing.T) *modjo.DB {
	t.Helper()
	reg := model.NewRegistry()
	require.NoError(t, reg.Register(stateBook{}, stateOrdered{}, stateAddress{}))
	// A client that is never connected: nothing here talks to a server.
	client, err := mongo.Connect()
	require.NoError(t, err)
	return modjo.New(client, "state", reg)
}

type window struct {
	off, lim int64
	empty    bool
}

func win[T any](qs *QuerySet[T]) window { return window{qs.q.Offset, qs.q.Limit, qs.q.Empty} }

func TestSlicingCombinesLikePython(t *testing.T) {
	db := stateDB(t)
	qs := Objects[stateBook](db)
	for _, tc := range []struct {
		name string
		got  *QuerySet[stateBook]
		want window
	}{
		{"limit", qs.Limit(10), window{0, 10, false}},
		{"offset", qs.Offset(5), window{5, 0, false}},
		{"slice", qs.Slice(2, 10), window{2, 8, false}},
		{"slice of slice", qs.Slice(2, 10).Slice(1, 3), window{3, 2, false}},
		{"slice past the end", qs.Slice(2, 10).Slice(5, 100), window{7, 3, false}},
		{"offset then limit", qs.Offset(5).Limit(3), window{5, 3, false}},
		{"limit then offset", qs.Limit(10).Offset(4), window{4, 6, false}},
		{"offset beyond the limit", qs.Limit(10).Offset(10), window{0, 10, true}},
		{"limit 0", qs.Limit(0), window{0, 0, true}},
		{"to before from", qs.Slice(5, 2), window{0, 0, true}},
		{"empty stays empty", qs.Limit(0).Offset(1).Slice(0, 5), window{0, 0, true}},
		{"offsets add", qs.Offset(2).Offset(3), window{5, 0, false}},
		{"smaller limit wins", qs.Limit(3).Limit(10), window{0, 3, false}},
		{"huge", qs.Offset(math.MaxInt64).Offset(1), window{math.MaxInt64, 0, true}},
		{"huge to", qs.Offset(10).Slice(0, math.MaxInt64), window{10, math.MaxInt64 - 10, false}},
		{"offset 0 is no slice", qs.Offset(0), window{0, 0, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, tc.got.err)
			assert.Equal(t, tc.want, win(tc.got))
		})
	}
	assert.False(t, qs.Offset(0).sliced, "qs[0:] is not sliced (Django)")
	assert.True(t, qs.Limit(1).sliced)
}

func TestNegativeIndexesAreRecordedErrors(t *testing.T) {
	db := stateDB(t)
	qs := Objects[stateBook](db)
	for _, bad := range []*QuerySet[stateBook]{qs.Limit(-1), qs.Offset(-1), qs.Slice(-1, 2), qs.Slice(0, -2), qs.BatchSize(-5)} {
		require.Error(t, bad.err)
		assert.Contains(t, bad.err.Error(), "negative")
		// The first error sticks through later calls.
		assert.Same(t, bad.err, bad.Filter(expr.Q{"year": 1}).Limit(2).OrderBy("x").err)
	}
	assert.NoError(t, qs.err, "the receiver is unchanged")
}

func TestChangingASlicedQuerySetIsAnError(t *testing.T) {
	db := stateDB(t)
	sliced := Objects[stateBook](db).Limit(5)
	for name, qs := range map[string]*QuerySet[stateBook]{
		"filter":   sliced.Filter(expr.Q{"year": 1}),
		"exclude":  sliced.Exclude(expr.Q{"year": 1}),
		"order":    sliced.OrderBy("year"),
		"reverse":  sliced.Reverse(),
		"distinct": sliced.Distinct("year"),
	} {
		require.Error(t, qs.err, name)
		assert.Contains(t, qs.err.Error(), "once a slice has been taken", name)
	}
	// These do not change which documents are in the window.
	assert.NoError(t, sliced.Only("title").Defer("year").BatchSize(10).Limit(2).err)
	// Filtering with nothing is not filtering.
	assert.NoError(t, sliced.Filter().Exclude(nil).err)
}

func TestChainingNeverModifiesTheReceiver(t *testing.T) {
	db := stateDB(t)
	base := Objects[stateBook](db).Filter(expr.Q{"year__gte": 2000}).OrderBy("title").Defer("year")
	before := *base
	_ = base.Filter(expr.Q{"title": "x"})
	_ = base.Exclude(expr.Q{"title": "y"})
	_ = base.OrderBy("-year")
	_ = base.Reverse()
	_ = base.Distinct("title")
	_ = base.Limit(3).Offset(1)
	_ = base.Only("title")
	_ = base.Defer("title")
	_ = base.None()
	_ = base.BatchSize(7)
	assert.Equal(t, before, *base)

	// Two branches from one QuerySet do not see each other.
	a := base.Filter(expr.Q{"title": "a"})
	b := base.Filter(expr.Q{"title": "b"})
	assert.Equal(t, expr.And(expr.Q{"year__gte": 2000}, expr.Q{"title": "a"}), a.q.Where)
	assert.Equal(t, expr.And(expr.Q{"year__gte": 2000}, expr.Q{"title": "b"}), b.q.Where)

	// Shared between goroutines that all branch off it (run under -race).
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := base.Filter(expr.Q{"year": i}).Defer("title").OrderBy("-year").Limit(int64(i + 1))
			assert.Equal(t, int64(i+1), c.q.Limit)
			assert.Equal(t, []string{"year", "title"}, c.q.Defer)
		}()
	}
	wg.Wait()
	assert.Equal(t, before, *base)
}

func TestFilterAndExcludeBuildConditions(t *testing.T) {
	db := stateDB(t)
	qs := Objects[stateBook](db)
	a, b, c := expr.Q{"a": 1}, expr.Q{"b": 2}, expr.Q{"c": 3}
	assert.Equal(t, expr.Condition(a), qs.Filter(a).q.Where)
	assert.Equal(t, expr.And(a, b), qs.Filter(a, b).q.Where)
	assert.Equal(t, expr.And(a, b, c), qs.Filter(a).Filter(b).Filter(c).q.Where)
	assert.Equal(t, expr.Not(expr.And(a, b)), qs.Exclude(a, b).q.Where, "exclude(a, b) is NOT (a AND b)")
	assert.Equal(t, expr.And(a, expr.Not(b)), qs.Filter(a).Exclude(b).q.Where)
	assert.Equal(t, expr.Or(a, b), qs.Filter(expr.Or(a, b)).q.Where)
	assert.Nil(t, qs.Filter().Exclude().q.Where)
}

func TestOrderByTerms(t *testing.T) {
	db := stateDB(t)
	qs := Objects[stateBook](db)
	got := qs.OrderBy("title", "-year", "?", expr.F("year").Desc().NullsLast(), expr.F("title"))
	require.NoError(t, got.err)
	assert.Equal(t, []any{
		expr.Ordering{Expr: expr.FieldRef{Name: "title"}},
		expr.Ordering{Expr: expr.FieldRef{Name: "year"}, Desc: true},
		expr.Random{},
		expr.Ordering{Expr: expr.FieldRef{Name: "year"}, Desc: true, Nulls: expr.NullsLast},
		expr.Ordering{Expr: expr.FieldRef{Name: "title"}},
	}, got.q.Order)
	assert.False(t, got.q.ClearOrder)

	cleared := got.OrderBy()
	assert.Nil(t, cleared.q.Order)
	assert.True(t, cleared.q.ClearOrder, "OrderBy() drops the model's ordering too")
	assert.False(t, cleared.OrderBy("year").q.ClearOrder)

	assert.True(t, qs.Reverse().q.Reverse)
	assert.False(t, qs.Reverse().Reverse().q.Reverse)
	assert.True(t, qs.Reverse().OrderBy("year").q.Reverse, "as in Django, reverse() survives order_by()")

	for _, bad := range []any{"", "-", 3, nil, expr.Ordering{}} {
		assert.Error(t, qs.OrderBy(bad).err, "%#v", bad)
	}
}

func TestOrdered(t *testing.T) {
	db := stateDB(t)
	assert.False(t, Objects[stateBook](db).ordered())
	assert.True(t, Objects[stateBook](db).OrderBy("year").ordered())
	assert.True(t, Objects[stateOrdered](db).ordered(), "the model's Meta ordering")
	assert.False(t, Objects[stateOrdered](db).OrderBy().ordered())
}

func TestDistinctOnlyDefer(t *testing.T) {
	db := stateDB(t)
	qs := Objects[stateBook](db)
	d := qs.Distinct()
	assert.True(t, d.q.Distinct)
	assert.Nil(t, d.q.DistinctOn)
	d = qs.Distinct("title", "year")
	assert.False(t, d.q.Distinct)
	assert.Equal(t, []string{"title", "year"}, d.q.DistinctOn)
	assert.Nil(t, d.Distinct().q.DistinctOn, "a later call replaces")

	assert.Equal(t, []string{"title"}, qs.Only("title").q.Only)
	assert.Equal(t, []string{"year"}, qs.Only("title").Only("year").q.Only, "only() replaces")
	assert.Equal(t, []string{"title", "year"}, qs.Defer("title").Defer("year", "title").q.Defer, "defer() adds up")
	assert.Equal(t, []string{"year"}, qs.Only("title", "year").Defer("title").q.Only, "defer() after only() removes")
	assert.Equal(t, []string{"year"}, qs.Defer("title").Only("title", "year").q.Only, "only() after defer() keeps the deferral")
	assert.Nil(t, qs.Defer("title").q.Only)
	assert.Equal(t, []string{"pk"}, qs.Only().q.Only, "only() with nothing loads the key")
	c := qs.Only("title").Defer()
	assert.Nil(t, c.q.Only)
	assert.Nil(t, c.q.Defer, "Defer() clears everything, as defer(None)")
}

func TestObjectsNeedsARegisteredModel(t *testing.T) {
	db := stateDB(t)
	type unknown struct{ model.Model }
	err := Objects[unknown](db).err
	require.ErrorIs(t, err, model.ErrNotRegistered)
	assert.ErrorIs(t, Objects[*stateBook](db).err, model.ErrNotRegistered, "T is the struct type")
	assert.ErrorIs(t, Objects[stateAddress](db).err, model.ErrNotSupported, "embedded models have no collection")
	assert.Error(t, Objects[stateBook](nil).err)
	// Every method on a failed QuerySet returns the recorded error, never panics.
	qs := Objects[unknown](db).Filter(expr.Q{"x": 1}).OrderBy("y").Limit(1)
	assert.True(t, errors.Is(qs.err, model.ErrNotRegistered))
	assert.Contains(t, qs.MQL(), "error: ")
}

func TestUsingSwitchesTheHandle(t *testing.T) {
	db := stateDB(t)
	other := stateDB(t)
	qs := Objects[stateBook](db).Filter(expr.Q{"year": 1})
	moved := qs.Using(other)
	assert.Same(t, other, moved.db)
	assert.Equal(t, qs.q.Where, moved.q.Where)
	assert.Same(t, db, qs.db)

	reg := model.NewRegistry()
	client, _ := mongo.Connect()
	empty := modjo.New(client, "x", reg)
	assert.ErrorIs(t, qs.Using(empty).err, model.ErrNotRegistered)
}

func TestSetOnInsertLeavesOutUpdatedPaths(t *testing.T) {
	doc := mustRaw(t, `{"_id": 1, "name": "x", "shop": {"city": "Paris", "street": "Rue"}, "n": 3}`)
	got, err := setOnInsert(doc, "", []string{"name", "shop.city", "_id"})
	require.NoError(t, err)
	keys := make([]string, len(got))
	for i, e := range got {
		keys[i] = e.Key
	}
	assert.Equal(t, []string{"shop.street", "n"}, keys)
	got, err = setOnInsert(doc, "", []string{"shop"})
	require.NoError(t, err)
	assert.Len(t, got, 3)
}

type uniqueModel struct {
	model.Model
	Email string  `modjo:"unique"`
	Nick  *string `modjo:"unique"`
	Site  string
	Slug  string
	Name  string
}

func (uniqueModel) Meta() model.Options {
	return model.Options{
		UniqueTogether: [][]string{{"site", "slug"}},
		Constraints:    []model.Constraint{model.UniqueConstraint{Name: "live_name", Fields: []string{"name"}, Condition: bson.D{{Key: "site", Value: "live"}}}},
	}
}

func TestUniqueFilter(t *testing.T) {
	reg := model.NewRegistry()
	require.NoError(t, reg.Register(uniqueModel{}))
	meta, err := reg.Meta(uniqueModel{})
	require.NoError(t, err)
	eq := func(keys ...string) bson.D {
		var d bson.D
		for _, k := range keys {
			d = append(d, bson.E{Key: k, Value: "x"})
		}
		return d
	}
	assert.True(t, uniqueFilter(meta, eq("_id")))
	assert.True(t, uniqueFilter(meta, eq("email")))
	assert.True(t, uniqueFilter(meta, eq("nick", "name")), "a nullable unique field: the index leaves nulls out")
	assert.True(t, uniqueFilter(meta, eq("slug", "site")))
	assert.False(t, uniqueFilter(meta, eq("slug")))
	assert.False(t, uniqueFilter(meta, eq("name")), "unique only among documents matching a condition")
	assert.False(t, uniqueFilter(meta, nil))
}
