package queryset_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/modjo-orm/modjo/expr"
	"github.com/modjo-orm/modjo/model"
	"github.com/modjo-orm/modjo/queryset"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestAllAndOrdering(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	seedBooks(t, db)
	books := queryset.Objects[Book](db)

	got, err := books.OrderBy("title").All(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"Dune", "Emma", "Go in Action", "Hyperion", "Neuromancer"}, titles(got))
	assert.True(t, model.StateOf(&got[0]).Loaded)
	assert.Equal(t, "Paris", got[0].Shop.City)
	assert.Equal(t, 4.5, *got[0].Rating)
	assert.Equal(t, time.Date(1965, 1, 1, 0, 0, 0, 0, time.UTC), *got[0].Published)

	got, err = books.OrderBy("-year").All(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"Go in Action", "Hyperion", "Neuromancer", "Dune", "Emma"}, titles(got))

	got, err = books.OrderBy("-year").Reverse().All(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"Emma", "Dune", "Neuromancer", "Hyperion", "Go in Action"}, titles(got))

	got, err = books.OrderBy("shop__city", "title").All(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"Hyperion", "Neuromancer", "Emma", "Dune", "Go in Action"}, titles(got), "embedded path; empty city first")

	// Nulls: a null rating sorts first ascending (MongoDB and Django on PostgreSQL
	// disagree by default, so the placement is asked for explicitly).
	got, err = books.OrderBy(expr.F("rating").Asc().NullsLast(), "title").All(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"Go in Action", "Hyperion", "Dune", "Emma", "Neuromancer"}, titles(got))
	got, err = books.OrderBy(expr.F("rating").Desc().NullsFirst(), "title").All(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"Emma", "Neuromancer", "Dune", "Hyperion", "Go in Action"}, titles(got))
	got, err = books.OrderBy(expr.F("rating").Desc().NullsFirst(), "title").Reverse().All(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"Go in Action", "Hyperion", "Dune", "Neuromancer", "Emma"}, titles(got), "reversed: nulls last, titles descending")

	got, err = books.OrderBy("?").All(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"Dune", "Emma", "Go in Action", "Hyperion", "Neuromancer"}, sortedTitles(got))

	// The model's Meta ordering applies unless OrderBy() clears it.
	authors := queryset.Objects[Author](db)
	for _, n := range []string{"Carol", "alice", "Bob"} {
		require.NoError(t, authors.Create(ctx, &Author{Name: n, Email: n + "@x"}))
	}
	as, err := authors.All(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"Bob", "Carol", "alice"}, names(as), "binary string order")
	as, err = authors.Reverse().All(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"alice", "Carol", "Bob"}, names(as))
	as, err = authors.OrderBy().All(ctx)
	require.NoError(t, err)
	assert.Len(t, as, 3)

	// Nothing stored: an empty, non-nil slice.
	none, err := queryset.Objects[Page](db).All(ctx)
	require.NoError(t, err)
	assert.NotNil(t, none)
	assert.Empty(t, none)
}

func names(as []Author) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Name
	}
	return out
}

func TestFilterAndExclude(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	seedBooks(t, db)
	books := queryset.Objects[Book](db).OrderBy("title")
	for _, tc := range []struct {
		name string
		qs   *queryset.QuerySet[Book]
		want []string
	}{
		{"exact", books.Filter(expr.Q{"author": "Herbert"}), []string{"Dune"}},
		{"gte", books.Filter(expr.Q{"year__gte": 1984}), []string{"Go in Action", "Hyperion", "Neuromancer"}},
		{"and of keys", books.Filter(expr.Q{"year__gte": 1984, "pages__lt": 300}), []string{"Go in Action", "Neuromancer"}},
		{"chained filters", books.Filter(expr.Q{"year__gte": 1984}).Filter(expr.Q{"pages__lt": 300}), []string{"Go in Action", "Neuromancer"}},
		{"or", books.Filter(expr.Or(expr.Q{"year__lt": 1900}, expr.Q{"title__startswith": "Hyp"})), []string{"Emma", "Hyperion"}},
		{"embedded path", books.Filter(expr.Q{"shop__city": "Paris"}), []string{"Dune", "Go in Action"}},
		{"icontains", books.Filter(expr.Q{"title__icontains": "ION"}), []string{"Go in Action", "Hyperion"}},
		{"in", books.Filter(expr.Q{"author__in": []string{"Austen", "Gibson", "Nobody"}}), []string{"Emma", "Neuromancer"}},
		{"isnull", books.Filter(expr.Q{"rating__isnull": true}), []string{"Emma", "Neuromancer"}},
		{"exact nil is isnull", books.Filter(expr.Q{"rating": nil}), []string{"Emma", "Neuromancer"}},
		{"comparisons never match null", books.Filter(expr.Q{"rating__lt": 10.0}), []string{"Dune", "Go in Action", "Hyperion"}},
		{"year transform", books.Filter(expr.Q{"published__year": 1989}), []string{"Hyperion"}},
		{"field against field", books.Filter(expr.Q{"views__gt": expr.F("pages").Div(100)}), []string{"Dune", "Emma", "Hyperion", "Neuromancer"}},
		{"field against null field", books.Filter(expr.Q{"rating__gt": expr.F("views").Div(10)}), []string{"Dune", "Go in Action", "Hyperion"}},
		{"exclude", books.Exclude(expr.Q{"shop__city": "Paris"}), []string{"Emma", "Hyperion", "Neuromancer"}},
		{"exclude keeps nulls", books.Exclude(expr.Q{"rating__gt": 4.2}), []string{"Emma", "Go in Action", "Neuromancer"}},
		{"exclude of several is NOT AND", books.Exclude(expr.Q{"shop__city": "Paris"}, expr.Q{"year__gt": 2000}), []string{"Dune", "Emma", "Hyperion", "Neuromancer"}},
		{"not", books.Filter(expr.Not(expr.Q{"genre": "scifi"})), []string{"Emma", "Go in Action"}},
		{"filter then exclude", books.Filter(expr.Q{"genre": "scifi"}).Exclude(expr.Q{"author": "Gibson"}), []string{"Dune", "Hyperion"}},
		{"nested", books.Filter(expr.Or(expr.And(expr.Q{"year__gt": 1980}, expr.Not(expr.Q{"pages__gt": 400})), expr.Q{"title": "Emma"})), []string{"Emma", "Go in Action", "Neuromancer"}},
		{"pk", books.Filter(expr.Q{"pk__in": []any{}}), []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.qs.All(ctx)
			require.NoError(t, err, tc.qs.MQL())
			assert.Equal(t, tc.want, titles(got), tc.qs.MQL())
			n, err := tc.qs.Count(ctx)
			require.NoError(t, err)
			assert.Equal(t, int64(len(tc.want)), n)
			ok, err := tc.qs.Exists(ctx)
			require.NoError(t, err)
			assert.Equal(t, len(tc.want) > 0, ok)
		})
	}

	// An unknown field is a *model.FieldError naming the model and the choices.
	_, err := books.Filter(expr.Q{"titel": "x"}).All(ctx)
	var fe *model.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "Book", fe.Model)
	assert.Contains(t, fe.Choices, "title")
	assert.Contains(t, err.Error(), "Book")
	_, err = books.Filter(expr.Q{"title__icontanis": "x"}).Count(ctx)
	require.ErrorAs(t, err, &fe)
}

func TestSlicing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	seedBooks(t, db)
	books := queryset.Objects[Book](db).OrderBy("title")
	for _, tc := range []struct {
		name string
		qs   *queryset.QuerySet[Book]
		want []string
	}{
		{"limit", books.Limit(2), []string{"Dune", "Emma"}},
		{"offset", books.Offset(3), []string{"Hyperion", "Neuromancer"}},
		{"slice", books.Slice(1, 3), []string{"Emma", "Go in Action"}},
		{"slice of slice", books.Slice(1, 5).Slice(1, 2), []string{"Go in Action"}},
		{"past the end", books.Slice(4, 100), []string{"Neuromancer"}},
		{"empty", books.Slice(3, 3), []string{}},
		{"beyond", books.Offset(10), []string{}},
		{"reversed then sliced", books.Reverse().Limit(2), []string{"Neuromancer", "Hyperion"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.qs.All(ctx)
			require.NoError(t, err)
			assert.Equal(t, tc.want, titles(got))
			n, err := tc.qs.Count(ctx)
			require.NoError(t, err)
			assert.Equal(t, int64(len(tc.want)), n, "Count counts the window")
		})
	}
	_, err := books.Limit(-1).All(ctx)
	assert.ErrorContains(t, err, "negative")
	_, err = books.Limit(2).Filter(expr.Q{"year": 1}).All(ctx)
	assert.ErrorContains(t, err, "slice")
	_, err = books.Limit(2).Update(ctx, expr.Set{"views": 1})
	assert.ErrorContains(t, err, "slice")
	_, _, err = books.Limit(2).Delete(ctx)
	assert.ErrorContains(t, err, "Limit or Offset")
}

func TestNoneSendsNoQuery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	seedBooks(t, db)
	mdb, log := monitored(t, db)
	none := queryset.Objects[Book](mdb).Filter(expr.Q{"year__gt": 0}).None()
	all, err := none.All(ctx)
	require.NoError(t, err)
	assert.Empty(t, all)
	for range none.Iter(ctx) {
		t.Fatal("an empty QuerySet yields nothing")
	}
	n, err := none.Count(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
	ok, err := none.Exists(ctx)
	require.NoError(t, err)
	assert.False(t, ok)
	_, err = none.Get(ctx)
	assert.ErrorIs(t, err, model.ErrDoesNotExist)
	_, err = none.First(ctx)
	assert.ErrorIs(t, err, model.ErrDoesNotExist)
	vals, err := none.Values(ctx, "title")
	require.NoError(t, err)
	assert.Empty(t, vals)
	m, err := none.Update(ctx, expr.Set{"views": 0})
	require.NoError(t, err)
	assert.Zero(t, m)
	d, counts, err := none.Delete(ctx)
	require.NoError(t, err)
	assert.Zero(t, d)
	assert.Empty(t, counts)
	inb, err := none.InBulk(ctx, bson.NewObjectID())
	require.NoError(t, err)
	assert.Empty(t, inb)
	_, err = queryset.Objects[Book](mdb).Limit(0).All(ctx)
	require.NoError(t, err)
	assert.Empty(t, log.names(), "no command at all")
}

func TestIterStreamsOneBatchAtATime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	var many []*Page
	for i := range 25 {
		many = append(many, &Page{Slug: string(rune('a'+i)) + "-page", Title: "T"})
	}
	require.NoError(t, queryset.Objects[Page](db).BulkCreate(ctx, many))

	mdb, log := monitored(t, db)
	qs := queryset.Objects[Page](mdb).OrderBy("pk").BatchSize(10)
	var seen []string
	for p, err := range qs.Iter(ctx) {
		require.NoError(t, err)
		seen = append(seen, p.Slug)
		if len(seen) == 12 {
			break
		}
	}
	assert.Equal(t, "l-page", seen[11])
	// The first batch (10), one getMore for the second (10), then the cursor is closed
	// when the loop breaks: never more than one batch ahead.
	assert.Equal(t, []string{"find", "getMore", "killCursors"}, log.names())

	log.reset()
	n := 0
	for _, err := range qs.Iter(ctx) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 25, n)
	assert.Equal(t, []string{"find", "getMore", "getMore"}, log.names())

	// Errors are yielded once, with a zero value.
	var errs int
	for b, err := range queryset.Objects[Book](db).Filter(expr.Q{"nope": 1}).Iter(ctx) {
		assert.Zero(t, b.Title)
		assert.Error(t, err)
		errs++
	}
	assert.Equal(t, 1, errs)
}

func TestGet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	byTitle := seedBooks(t, db)
	books := queryset.Objects[Book](db)

	b, err := books.Get(ctx, expr.Q{"pk": byTitle["Emma"].ID})
	require.NoError(t, err)
	assert.Equal(t, "Emma", b.Title)
	assert.Nil(t, b.Rating)
	b, err = books.Filter(expr.Q{"shop__city": "Paris"}).Get(ctx, expr.Q{"year__gt": 2000})
	require.NoError(t, err)
	assert.Equal(t, "Go in Action", b.Title)

	_, err = books.Get(ctx, expr.Q{"title": "Ulysses"})
	require.ErrorIs(t, err, model.ErrDoesNotExist)
	assert.Contains(t, err.Error(), "Book")
	assert.Contains(t, err.Error(), "Ulysses", "the error shows the filter")

	_, err = books.Get(ctx, expr.Q{"genre": "scifi"})
	require.ErrorIs(t, err, model.ErrMultipleObjectsReturned)
	assert.Contains(t, err.Error(), "Book")
	assert.False(t, errors.Is(err, model.ErrDoesNotExist))

	// A sliced QuerySet: Get looks inside the window.
	b, err = books.OrderBy("title").Offset(4).Get(ctx)
	require.NoError(t, err)
	assert.Equal(t, "Neuromancer", b.Title)

	_, err = books.Get(ctx, expr.Q{"nope": 1})
	var fe *model.FieldError
	assert.ErrorAs(t, err, &fe)
}

func TestFirstLastEarliestLatest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	byTitle := seedBooks(t, db)
	books := queryset.Objects[Book](db)

	// Without an order: by primary key (insertion order of the ObjectIDs here).
	b, err := books.First(ctx)
	require.NoError(t, err)
	assert.Equal(t, byTitle["Dune"].ID, b.ID)
	b, err = books.Last(ctx)
	require.NoError(t, err)
	assert.Equal(t, byTitle["Neuromancer"].ID, b.ID)

	b, err = books.OrderBy("year").First(ctx)
	require.NoError(t, err)
	assert.Equal(t, "Emma", b.Title)
	b, err = books.OrderBy("year").Last(ctx)
	require.NoError(t, err)
	assert.Equal(t, "Go in Action", b.Title)
	b, err = books.Filter(expr.Q{"genre": "scifi"}).OrderBy("-pages").Last(ctx)
	require.NoError(t, err)
	assert.Equal(t, "Neuromancer", b.Title)
	b, err = books.OrderBy("title").Offset(1).First(ctx)
	require.NoError(t, err)
	assert.Equal(t, "Emma", b.Title)

	_, err = books.Filter(expr.Q{"year__gt": 3000}).First(ctx)
	assert.ErrorIs(t, err, model.ErrDoesNotExist)
	_, err = books.Filter(expr.Q{"year__gt": 3000}).Last(ctx)
	assert.ErrorIs(t, err, model.ErrDoesNotExist)

	b, err = books.Earliest(ctx, "year")
	require.NoError(t, err)
	assert.Equal(t, "Emma", b.Title)
	b, err = books.Latest(ctx, "year")
	require.NoError(t, err)
	assert.Equal(t, "Go in Action", b.Title)
	b, err = books.Latest(ctx, "-pages")
	require.NoError(t, err)
	assert.Equal(t, "Go in Action", b.Title, "the fewest pages")
	b, err = books.Filter(expr.Q{"genre": "scifi"}).Earliest(ctx, "rating", "title")
	require.NoError(t, err)
	assert.Equal(t, "Neuromancer", b.Title, "null rating first")
	_, err = books.Earliest(ctx)
	assert.ErrorContains(t, err, "ordering", "Book has no Meta ordering")
	_, err = books.Limit(2).Latest(ctx, "year")
	assert.ErrorContains(t, err, "slice")

	authors := queryset.Objects[Author](db)
	for _, n := range []string{"Bob", "Ann"} {
		require.NoError(t, authors.Create(ctx, &Author{Name: n, Email: n}))
	}
	a, err := authors.Earliest(ctx)
	require.NoError(t, err)
	assert.Equal(t, "Ann", a.Name, "the Meta ordering")
	a, err = authors.Latest(ctx)
	require.NoError(t, err)
	assert.Equal(t, "Bob", a.Name)
	a, err = authors.First(ctx)
	require.NoError(t, err)
	assert.Equal(t, "Ann", a.Name)
	a, err = authors.Last(ctx)
	require.NoError(t, err)
	assert.Equal(t, "Bob", a.Name)
}

func TestContainsAndInBulk(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	byTitle := seedBooks(t, db)
	books := queryset.Objects[Book](db)

	ok, err := books.Filter(expr.Q{"genre": "scifi"}).Contains(ctx, byTitle["Dune"])
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = books.Filter(expr.Q{"genre": "scifi"}).Contains(ctx, byTitle["Emma"])
	require.NoError(t, err)
	assert.False(t, ok)
	_, err = books.Contains(ctx, &Book{Title: "unsaved"})
	assert.ErrorContains(t, err, "unsaved")
	_, err = books.Contains(ctx, nil)
	assert.Error(t, err)

	missing := bson.NewObjectID()
	m, err := books.InBulk(ctx, byTitle["Dune"].ID, byTitle["Emma"].ID, missing)
	require.NoError(t, err)
	require.Len(t, m, 2)
	assert.Equal(t, "Dune", m[byTitle["Dune"].ID].Title)
	assert.Equal(t, "Emma", m[byTitle["Emma"].ID].Title)
	m, err = books.Filter(expr.Q{"year__gt": 1900}).InBulk(ctx, byTitle["Dune"].ID, byTitle["Emma"].ID)
	require.NoError(t, err)
	assert.Len(t, m, 1, "the QuerySet's filter applies")
	m, err = books.InBulk(ctx)
	require.NoError(t, err)
	assert.Empty(t, m)

	pages := queryset.Objects[Page](db)
	require.NoError(t, pages.Create(ctx, &Page{Slug: "home", Title: "Home"}))
	pm, err := pages.InBulk(ctx, "home", "away")
	require.NoError(t, err)
	assert.Equal(t, map[any]Page{"home": pm["home"]}, pm)
	assert.Equal(t, "Home", pm["home"].Title)
	ok, err = pages.Contains(ctx, &Page{Slug: "home"})
	require.NoError(t, err)
	assert.True(t, ok)

	_, err = queryset.Objects[Line](db).InBulk(ctx, bson.D{{Key: "order", Value: 1}})
	assert.ErrorIs(t, err, model.ErrNotSupported)
	_, err = books.Limit(1).InBulk(ctx, missing)
	assert.Error(t, err)
}

func TestValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	byTitle := seedBooks(t, db)
	books := queryset.Objects[Book](db).OrderBy("title")

	rows, err := books.Filter(expr.Q{"year__lt": 1970}).Values(ctx, "title", "shop__city", "rating", "pk", "published")
	require.NoError(t, err)
	assert.Equal(t, []map[string]any{
		{"title": "Dune", "shop__city": "Paris", "rating": 4.5, "pk": byTitle["Dune"].ID, "published": *day(1965)},
		{"title": "Emma", "shop__city": "London", "rating": nil, "pk": byTitle["Emma"].ID, "published": nil},
	}, rows)

	rows, err = books.Limit(1).Values(ctx)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	assert.Equal(t, "Dune", rows[0]["title"])
	assert.Equal(t, byTitle["Dune"].ID, rows[0]["id"])
	assert.Equal(t, []string{"scifi"}, rows[0]["tags"])
	assert.Equal(t, Shop{City: "Paris", Street: "Rue A"}, rows[0]["shop"])
	assert.Len(t, rows[0], 11, "every field")

	list, err := books.Filter(expr.Q{"year__gt": 1980}).ValuesList(ctx, "title", "year")
	require.NoError(t, err)
	assert.Equal(t, [][]any{{"Go in Action", 2015}, {"Hyperion", 1989}, {"Neuromancer", 1984}}, list)

	titlesFlat, err := queryset.ValuesFlat[string](ctx, books.Filter(expr.Q{"genre": "scifi"}), "title")
	require.NoError(t, err)
	assert.Equal(t, []string{"Dune", "Hyperion", "Neuromancer"}, titlesFlat)
	ids, err := queryset.ValuesFlat[bson.ObjectID](ctx, books.Limit(1), "pk")
	require.NoError(t, err)
	assert.Equal(t, []bson.ObjectID{byTitle["Dune"].ID}, ids)
	ratings, err := queryset.ValuesFlat[*float64](ctx, books, "rating")
	require.NoError(t, err)
	require.Len(t, ratings, 5)
	assert.Nil(t, ratings[1])
	assert.Equal(t, 4.5, *ratings[0])
	anys, err := queryset.ValuesFlat[any](ctx, books, "rating")
	require.NoError(t, err)
	assert.Equal(t, []any{4.5, nil, 4.0, 4.3, nil}, anys)
	_, err = queryset.ValuesFlat[float64](ctx, books, "rating")
	assert.ErrorContains(t, err, "null", "a null cannot become a float64")
	_, err = queryset.ValuesFlat[int](ctx, books, "title")
	assert.ErrorContains(t, err, "cannot hold")
	cities, err := queryset.ValuesFlat[string](ctx, queryset.Objects[Book](db).OrderBy("shop__city").Distinct(), "shop__city")
	require.NoError(t, err)
	assert.Equal(t, []string{"", "Berlin", "London", "Paris"}, cities, "distinct rows")

	list, err = queryset.Objects[Book](db).OrderBy("author").Distinct().ValuesList(ctx, "shop__city", "year__gt")
	require.Error(t, err)
	var fe *model.FieldError
	assert.ErrorAs(t, err, &fe)
	assert.Nil(t, list)

	// A composite key gives its stored sub-document.
	lines := queryset.Objects[Line](db)
	require.NoError(t, lines.Create(ctx, &Line{Order: 7, No: 2, Qty: 3}))
	lv, err := lines.Values(ctx, "pk", "order", "qty")
	require.NoError(t, err)
	assert.Equal(t, []map[string]any{{"pk": bson.D{{Key: "order", Value: int64(7)}, {Key: "no", Value: int64(2)}}, "order": int64(7), "qty": 3}}, lv)
}

func TestDistinctOn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	seedBooks(t, db)
	// One book per city, the first by title within each city.
	got, err := queryset.Objects[Book](db).OrderBy("shop__city", "title").Distinct("shop__city").All(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"Hyperion", "Neuromancer", "Emma", "Dune"}, titles(got))
}

func TestOnlyDeferThenSave(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	byTitle := seedBooks(t, db)
	books := queryset.Objects[Book](db)

	b, err := books.Only("title").Get(ctx, expr.Q{"pk": byTitle["Dune"].ID})
	require.NoError(t, err)
	assert.Equal(t, "Dune", b.Title)
	assert.Zero(t, b.Year, "not loaded")
	st := model.StateOf(&b)
	require.NotNil(t, st)
	assert.True(t, st.Deferred["year"])
	assert.True(t, st.Deferred["shop"])
	assert.False(t, st.Deferred["title"])
	b.Title = "Dune (1965)"
	require.NoError(t, db.Save(ctx, &b))
	full, err := books.Get(ctx, expr.Q{"pk": b.ID})
	require.NoError(t, err)
	assert.Equal(t, "Dune (1965)", full.Title)
	assert.Equal(t, 1965, full.Year, "Save wrote only the loaded fields")
	assert.Equal(t, "Paris", full.Shop.City)
	assert.Equal(t, []string{"scifi"}, full.Tags)

	got, err := books.Defer("tags", "shop").OrderBy("title").All(ctx)
	require.NoError(t, err)
	require.Len(t, got, 5)
	assert.Nil(t, got[0].Tags)
	assert.Equal(t, 1965, got[0].Year)
	assert.Equal(t, map[string]bool{"tags": true, "shop": true}, model.StateOf(&got[0]).Deferred)
	got[0].Views = 99
	require.NoError(t, db.Save(ctx, &got[0]))
	raw := stored(t, db, Book{}, bson.D{{Key: "_id", Value: got[0].ID}})
	assert.Equal(t, int64(99), raw.Lookup("views").Int64())
	assert.Equal(t, "Paris", raw.Lookup("shop", "city").StringValue(), "the deferred fields are intact")

	// Each instance has its own Deferred map.
	model.StateOf(&got[1]).Deferred["year"] = true
	assert.False(t, model.StateOf(&got[2]).Deferred["year"])

	_, err = books.Only("nope").All(ctx)
	var fe *model.FieldError
	assert.ErrorAs(t, err, &fe)
}

func TestExplainAndMQL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	seedBooks(t, db)
	qs := queryset.Objects[Book](db).Filter(expr.Q{"year__gte": 1980})
	plan, err := qs.Explain(ctx)
	require.NoError(t, err)
	_, err = plan.LookupErr("queryPlanner")
	assert.NoError(t, err, plan.String())
	assert.Equal(t, qs.MQL(), qs.String())
	assert.Equal(t, `{"find":"book","filter":{"year":{"$gte":1980}}}`, qs.MQL())
}

func TestRawAggregate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	seedBooks(t, db)
	books := queryset.Objects[Book](db)

	got, err := books.RawAggregate(ctx, bson.A{
		bson.D{{Key: "$match", Value: bson.D{{Key: "tags", Value: "scifi"}}}},
		bson.D{{Key: "$addFields", Value: bson.D{{Key: "score", Value: bson.D{{Key: "$multiply", Value: bson.A{"$views", 2}}}}}}},
		bson.D{{Key: "$sort", Value: bson.D{{Key: "score", Value: -1}}}},
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"Dune", "Hyperion", "Neuromancer"}, titles(got))
	st := model.StateOf(&got[0])
	require.Len(t, st.Extra, 1, "the key Book lacks stays reachable")
	assert.Equal(t, "score", st.Extra[0].Key())
	assert.Equal(t, int64(20), st.Extra[0].Value().AsInt64())

	_, err = books.RawAggregate(ctx, bson.A{bson.D{{Key: "$project", Value: bson.D{{Key: "_id", Value: 0}, {Key: "title", Value: 1}}}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "_id")

	_, err = books.Filter(expr.Q{"year": 1}).RawAggregate(ctx, bson.A{})
	assert.ErrorContains(t, err, "whole collection")
	_, err = books.RawAggregate(ctx, bson.A{bson.D{{Key: "$bogus", Value: 1}}})
	assert.Error(t, err)
}

func TestSharedQuerySetConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	seedBooks(t, db)
	shared := queryset.Objects[Book](db).Filter(expr.Q{"year__gt": 1900}).OrderBy("title")
	before := shared.MQL()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch i % 4 {
			case 0:
				got, err := shared.All(ctx)
				assert.NoError(t, err)
				assert.Equal(t, []string{"Dune", "Go in Action", "Hyperion", "Neuromancer"}, titles(got))
			case 1:
				n, err := shared.Filter(expr.Q{"genre": "scifi"}).Count(ctx)
				assert.NoError(t, err)
				assert.Equal(t, int64(3), n)
			case 2:
				got, err := shared.Reverse().Limit(1).All(ctx)
				assert.NoError(t, err)
				assert.Equal(t, []string{"Neuromancer"}, titles(got))
			default:
				for _, err := range shared.BatchSize(1).Iter(ctx) {
					assert.NoError(t, err)
				}
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, before, shared.MQL(), "nobody changed it")
}

func TestUsing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	other := newDB(t)
	seedBooks(t, db)
	qs := queryset.Objects[Book](db).Filter(expr.Q{"genre": "scifi"})
	n, err := qs.Count(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(3), n)
	n, err = qs.Using(other).Count(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "the other database is empty")
	require.NoError(t, qs.Using(other).Create(ctx, &Book{Title: "X", Genre: "scifi"}))
	n, err = qs.Using(other).Count(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
}
