package agg

import (
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func jdoc(kv ...any) bson.D {
	out := bson.D{}
	for i := 0; i < len(kv); i += 2 {
		out = append(out, bson.E{Key: kv[i].(string), Value: kv[i+1]})
	}
	return out
}

func TestVisitPath(t *testing.T) {
	doc := jdoc("a", bson.A{jdoc("b", int32(1)), jdoc("b", bson.A{int32(2), int32(3)}), int32(9), bson.A{jdoc("b", int32(4))}},
		"c", jdoc("d", bson.A{int32(5), int32(6)}),
		"e", bson.A{bson.A{int32(7)}, jdoc("f", int32(8))},
		"n", nil)
	for _, tc := range []struct {
		path []string
		want bson.A
	}{
		{[]string{"a", "b"}, bson.A{int32(1), int32(2), int32(3)}}, // nested arrays are not entered
		{[]string{"c", "d"}, bson.A{int32(5), int32(6)}},
		{[]string{"c"}, bson.A{jdoc("d", bson.A{int32(5), int32(6)})}},
		{[]string{"e", "0"}, bson.A{int32(7)}},           // a position, then the trailing array's elements
		{[]string{"e", "1", "f"}, bson.A{int32(8)}},      // a position, then a field
		{[]string{"e", "01"}, nil},                       // not a strict position: a field name
		{[]string{"e", "5"}, nil},                        // out of range
		{[]string{"n"}, bson.A{nil}},                     // null is a value
		{[]string{"missing"}, nil},                       // missing is not
		{[]string{"a", "0", "b"}, bson.A{int32(1)}},      // position then field
		{[]string{"c", "d", "x"}, nil},                   // scalars have no fields
		{[]string{"a", "b", "0"}, bson.A{int32(2)}},      // position in a document's array
		{[]string{"e", "f"}, bson.A{int32(8)}},           // array elements that are documents
		{[]string{"e", "0", "0"}, bson.A{int32(7)}},      // consecutive positions
		{[]string{"a", "3", "0", "b"}, bson.A{int32(4)}}, // positions through nested arrays
	} {
		var got bson.A
		visitPath(doc, tc.path, func(v any) { got = append(got, v) })
		require.Equal(t, tc.want, got, "%v", tc.path)
	}
}

func TestSetNested(t *testing.T) {
	base := jdoc("_id", int32(1), "a", int32(5), "s", jdoc("x", int32(1)), "arr", bson.A{jdoc("x", int32(1))})
	for _, tc := range []struct {
		path []string
		want bson.D
	}{
		{[]string{"a"}, jdoc("_id", int32(1), "a", "v", "s", jdoc("x", int32(1)), "arr", bson.A{jdoc("x", int32(1))})},
		{[]string{"new"}, jdoc("_id", int32(1), "a", int32(5), "s", jdoc("x", int32(1)), "arr", bson.A{jdoc("x", int32(1))}, "new", "v")},
		{[]string{"s", "y"}, jdoc("_id", int32(1), "a", int32(5), "s", jdoc("x", int32(1), "y", "v"), "arr", bson.A{jdoc("x", int32(1))})},
		{[]string{"a", "y"}, jdoc("_id", int32(1), "a", jdoc("y", "v"), "s", jdoc("x", int32(1)), "arr", bson.A{jdoc("x", int32(1))})},
		{[]string{"arr", "y"}, jdoc("_id", int32(1), "a", int32(5), "s", jdoc("x", int32(1)), "arr", jdoc("y", "v"))},
		{[]string{"p", "q"}, jdoc("_id", int32(1), "a", int32(5), "s", jdoc("x", int32(1)), "arr", bson.A{jdoc("x", int32(1))}, "p", jdoc("q", "v"))},
	} {
		before := value.CopyDoc(base)
		got := setNested(base, tc.path, "v")
		require.Equal(t, tc.want, got, "%v", tc.path)
		require.Equal(t, before, base, "the input is not modified")
	}
}

func TestStrictIndex(t *testing.T) {
	for s, want := range map[string]int{"0": 0, "7": 7, "42": 42} {
		n, ok := strictIndex(s)
		require.True(t, ok, s)
		require.Equal(t, want, n)
	}
	for _, s := range []string{"", "01", "-1", "+1", "a", "1a", "9999999999"} {
		_, ok := strictIndex(s)
		require.False(t, ok, s)
	}
}

// TestPlanningFilterFromVariableEqualities checks the query a correlated sub-pipeline
// gives the planner: its $match plus a plain equality per field-to-variable $eq, with the
// variable's value of the run.
func TestPlanningFilterFromVariableEqualities(t *testing.T) {
	match := jdoc("$expr", jdoc("$and", bson.A{
		jdoc("$eq", bson.A{"$a", "$$x"}),
		jdoc("$eq", bson.A{"$$y.z", "$b.c"}),
		jdoc("$gt", bson.A{"$d", "$$x"}),
		jdoc("$eq", bson.A{"$e", "$$ROOT"}), // not a user variable
		jdoc("$eq", bson.A{"$f", "$g"}),     // no variable
	}))
	p, err := Compile(bson.A{jdoc("$match", match), jdoc("$limit", int32(3))}, Options{Vars: []string{"x", "y"}})
	require.NoError(t, err)
	require.Len(t, p.sourceEqs, 2)

	env := &expr.Env{Vars: map[string]any{"x": int32(1), "y": jdoc("z", "s")}}
	got := p.planningFilter(env, nil)
	want := jdoc("$and", bson.A{match, jdoc("a", jdoc("$eq", int32(1))), jdoc("b.c", jdoc("$eq", "s"))})
	require.Equal(t, want, got)

	// Values a plain equality would not bound correctly are left to the matcher alone.
	for _, v := range []any{bson.A{int32(1)}, bson.Regex{Pattern: "a"}, value.Missing, bson.Undefined{}} {
		env := &expr.Env{Vars: map[string]any{"x": v, "y": jdoc()}}
		require.Equal(t, match, p.planningFilter(env, nil), "%v", v)
	}

	// A join's equality comes first.
	j := &join{filter: jdoc("k", jdoc("$eq", int32(2)))}
	got = p.planningFilter(&expr.Env{}, j)
	require.Equal(t, jdoc("$and", bson.A{j.filter, match}), got)

	// Top-level $and and a bare $eq are recognized too.
	p, err = Compile(bson.A{jdoc("$match", jdoc("$and", bson.A{jdoc("$expr", jdoc("$eq", bson.A{"$$x", "$k"}))}))}, Options{Vars: []string{"x"}})
	require.NoError(t, err)
	require.Len(t, p.sourceEqs, 1)
	require.Equal(t, "k", p.sourceEqs[0].path)
}
