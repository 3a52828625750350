package compiler

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/modjo-orm/modjo/expr"
	"github.com/modjo-orm/modjo/internal/testenv"
	"github.com/modjo-orm/modjo/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// storedPaths lists every stored path a key may resolve to: the model's fields and,
// through embedded models, their sub-fields.
func storedPaths(m *model.Meta, prefix string, out map[string]bool) {
	for _, f := range m.Fields {
		p := prefix + f.Path
		out[p] = true
		if f.Embedded != nil && !f.Many {
			storedPaths(f.Embedded, p+".", out)
		}
	}
}

// FuzzLookupPath feeds arbitrary keys to the lookup path parser: it never panics, an
// unknown part is a *model.FieldError (or a path this issue does not cover, wrapping
// model.ErrNotSupported), and a resolved key only ever names a stored path from the
// model's metadata.
func FuzzLookupPath(f *testing.F) {
	for _, seed := range []string{"title", "title__icontains", "shop__city__iexact", "published__year__gte", "pk__in", "pk",
		"id", "__", "title____", "shop__", "", "x__y__z", "published__date__year__lt", "published__time__hour", "data__a__b",
		"shops__city", "author__exact__exact", "shop__geo__lat__gt", "opens__hour", "released__week_day__in", "$where",
		"title.x", "shop.city", "a\x00b", "published__year__year", "branch__street__isnull"} {
		f.Add(seed)
	}
	m := metaOf(f, Book{})
	paths := map[string]bool{}
	storedPaths(m, "", paths)
	f.Fuzz(func(t *testing.T, key string) {
		for _, withLookup := range []bool{true, false} {
			tg, err := parseKey(m, key, withLookup)
			if err != nil {
				var fe *model.FieldError
				if !errors.As(err, &fe) && !errors.Is(err, model.ErrNotSupported) {
					t.Fatalf("parseKey(%q): unexpected error type %T: %v", key, err, err)
				}
				if fe != nil {
					assert.Equal(t, "Book", fe.Model)
					assert.True(t, strings.HasPrefix(key, fe.Name), "the bad part %q starts the key %q", fe.Name, key)
				}
				continue
			}
			if !paths[tg.stored] {
				t.Fatalf("parseKey(%q) resolved to %q, not a stored path of the model", key, tg.stored)
			}
			if withLookup && tg.lookup == 0 {
				t.Fatalf("parseKey(%q) has no lookup", key)
			}
		}
		if p, err := Resolve(m, key); err == nil {
			require.True(t, paths[p.Stored], "Resolve(%q) = %q", key, p.Stored)
		}
		// Compiling with a few values never panics.
		for _, v := range []any{1, "x", nil, true, []any{1, 2}, expr.F("pages")} {
			_, _ = FilterDoc(m, expr.Q{key: v})
		}
		_, _ = UpdateDoc(m, expr.Set{key: 1})
		_, _ = Select(&Query{Meta: m, Order: []any{key, "-" + key}})
		_, _ = Select(&Query{Meta: m, Fields: []string{key}, Distinct: true})
		_, _ = Select(&Query{Meta: m, Only: []string{key}})
	})
}

// fuzzServer is one database for the whole fuzz run.
var fuzzServer struct {
	once sync.Once
	db   *mongo.Database
}

// FuzzValueInjection checks that values are data: for any user value, the compiled
// filter's operators and field paths are exactly the expected ones, and against the
// server the value matches only documents holding exactly that value (or, for pattern
// lookups, containing it as text).
func FuzzValueInjection(f *testing.F) {
	for _, seed := range [][2]string{
		{"$where", "$gt"}, {"$gt", "1"}, {"a.b", "$ne"}, {"{\"$ne\": 1}", "x"}, {`.*`, `^`}, {`a|b`, `$`}, {`(?i)`, `\`},
		{`[x]`, `{1}`}, {"\\Q.\\E", "\\x00"}, {"a\x00b", "k"}, {"", ""}, {"line\n", "\n"}, {"Ünï", "日本"}, {"#x y", "-"},
		{"\xff", "k"}, {"$$ROOT", "$literal"},
	} {
		f.Add(seed[0], seed[1])
	}
	m := metaOf(f, Book{})
	fuzzServer.once.Do(func() { fuzzServer.db = testenv.Database(f) })
	coll := fuzzServer.db.Collection("books")
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, s, k string) {
		// The compiled shapes.
		d, err := FilterDoc(m, expr.Q{"title": s})
		require.NoError(t, err)
		require.Equal(t, bson.D{{Key: "title", Value: s}}, d)

		d, err = FilterDoc(m, expr.Q{"title__in": []any{s, k}})
		require.NoError(t, err)
		require.Equal(t, bson.D{{Key: "title", Value: bson.D{{Key: "$in", Value: bson.A{s, k}}}}}, d)

		d, err = FilterDoc(m, expr.Q{"data": map[string]any{k: s, "$ne": 1}})
		if strings.IndexByte(k, 0) < 0 {
			require.NoError(t, err)
			require.Len(t, d, 1)
			require.Equal(t, "data", d[0].Key)
			eq := d[0].Value.(bson.D)
			require.Len(t, eq, 1)
			require.Equal(t, "$eq", eq[0].Key, "a document is compared with $eq, never read as operators")
		}

		d, err = FilterDoc(m, expr.Q{"title__in": []any{expr.F("author"), s}})
		require.NoError(t, err)
		require.Equal(t, bson.D{{Key: "title", Value: bson.D{{Key: "$ne", Value: nil}}}, {Key: "writer", Value: bson.D{{Key: "$ne", Value: nil}}},
			{Key: "$expr", Value: bson.D{{Key: "$in", Value: bson.A{"$title", bson.A{"$writer", bson.D{{Key: "$literal", Value: s}}}}}}}}, d)

		patterns := map[string]func(title string) bool{
			"contains":   func(x string) bool { return strings.Contains(x, s) },
			"startswith": func(x string) bool { return strings.HasPrefix(x, s) },
			"endswith":   func(x string) bool { return strings.HasSuffix(x, s) },
		}
		decoys := []string{"", "x", "$where", "$gt", "a.b", ".*", s + "x", "x" + s, "x" + s + "y", strings.ToUpper(s), s + "\n", k, k + s}
		for lookup, want := range patterns {
			for _, key := range []string{lookup, "i" + lookup} {
				d, err := FilterDoc(m, expr.Q{"title__" + key: s})
				if !utf8.ValidString(s) {
					require.Error(t, err, "invalid UTF-8 cannot be a regular expression")
					continue
				}
				require.NoError(t, err)
				require.Len(t, d, 1)
				require.Equal(t, "title", d[0].Key)
				ops := d[0].Value.(bson.D)
				require.Equal(t, "$regex", ops[0].Key)
				if key[0] == 'i' {
					require.Equal(t, bson.D{{Key: "$regex", Value: ops[0].Value}, {Key: "$options", Value: "i"}}, ops)
					continue
				}
				require.Len(t, ops, 1)
				pattern := ops[0].Value.(string)
				re, err := regexp.Compile(pattern)
				require.NoError(t, err, "pattern %q", pattern)
				for _, x := range append(decoys, s) {
					require.Equal(t, want(x), re.MatchString(x), "%s %q against %q (pattern %q)", lookup, s, x, pattern)
				}
			}
		}

		// Against the server.
		if !utf8.ValidString(s) || !utf8.ValidString(k) {
			return
		}
		_, err = coll.DeleteMany(ctx, bson.D{})
		require.NoError(t, err)
		var docs []any
		titles := append(slices.Clone(decoys), s)
		for i, x := range titles {
			docs = append(docs, bson.D{{Key: "_id", Value: int32(i)}, {Key: "title", Value: x}, {Key: "writer", Value: "w"}})
		}
		docs = append(docs, bson.D{{Key: "_id", Value: int32(len(titles))}, {Key: "title", Value: nil}})
		_, err = coll.InsertMany(ctx, docs)
		require.NoError(t, err)
		nullID := int32(len(titles))
		check := func(where expr.Condition, want func(string) bool, withNull ...bool) {
			t.Helper()
			cmd, err := Select(&Query{Meta: m, Where: where, ClearOrder: true})
			require.NoError(t, err)
			var exp []int32
			for i, x := range titles {
				if want(x) {
					exp = append(exp, int32(i))
				}
			}
			if len(withNull) > 0 {
				exp = append(exp, nullID)
			}
			var got []int32
			for _, d := range run(t, fuzzServer.db, cmd) {
				got = append(got, d.Lookup("_id").Int32())
			}
			assert.ElementsMatch(t, exp, got, "%s", cmd)
		}
		check(expr.Q{"title": s}, func(x string) bool { return x == s })
		check(expr.Not(expr.Q{"title": s}), func(x string) bool { return x != s }, true) // NULL stays
		check(expr.Q{"title__in": []string{s, k}}, func(x string) bool { return x == s || x == k })
		for lookup, want := range patterns {
			check(expr.Q{"title__" + lookup: s}, want)
		}
		// Case-insensitive lookups: Unicode case folding is the server's; the value itself
		// always matches, and what does not contain it case-insensitively never does.
		for _, lookup := range []string{"iexact", "icontains", "istartswith", "iendswith"} {
			cmd, err := Select(&Query{Meta: m, Where: expr.Q{"title__" + lookup: s}, ClearOrder: true})
			require.NoError(t, err)
			var got []int32
			for _, d := range run(t, fuzzServer.db, cmd) {
				got = append(got, d.Lookup("_id").Int32())
			}
			assert.Contains(t, got, int32(len(titles)-1), "%s %q matches itself", lookup, s)
			for _, id := range got {
				x := titles[id]
				assert.True(t, strings.Contains(strings.ToLower(x), strings.ToLower(s)) || strings.EqualFold(x, s) ||
					len(s) != len(strings.ToLower(s)), "%s %q matched %q", lookup, s, x)
			}
		}
		// A constant inside an expression is data too.
		check(expr.Q{"title__in": []any{expr.F("author"), s}}, func(x string) bool { return x == s || x == "w" })
	})
}
