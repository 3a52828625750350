package projection

import (
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/conformance"
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/match"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/sorter"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// runCase executes a conformance case directly against the package: a find (documents in
// _id order, filtered by match when the case has a filter, the positional index from
// MatchPosition) or a pipeline of $sort and $project stages.
func runCase(c conformance.Case) ([]bson.D, error) {
	docs := append([]bson.D(nil), c.Docs...)
	if c.Pipeline != nil {
		for _, st := range c.Pipeline {
			stage, ok := st.(bson.D)
			if !ok || len(stage) != 1 {
				return nil, mongoerr.Newf(mongoerr.InternalError, "test harness: bad stage %v", st)
			}
			switch stage[0].Key {
			case "$sort":
				s, err := sorter.Compile(stage[0].Value.(bson.D))
				if err != nil {
					return nil, err
				}
				if err := sorter.SortDocs(docs, s); err != nil {
					return nil, err
				}
			case "$project":
				p, err := Compile(stage[0].Value.(bson.D), Aggregate)
				if err != nil {
					return nil, err
				}
				for i, d := range docs {
					if docs[i], err = p.Apply(d, nil); err != nil {
						return nil, err
					}
				}
			default:
				return nil, mongoerr.Newf(mongoerr.InternalError, "test harness: unsupported stage %s", stage[0].Key)
			}
		}
		return docs, nil
	}
	p, err := Compile(c.Projection, Find)
	if err != nil {
		return nil, err
	}
	m, err := match.Compile(c.Filter, nil)
	if err != nil {
		return nil, err
	}
	s, err := sorter.Compile(bson.D{{Key: "_id", Value: int32(1)}})
	if err != nil {
		return nil, err
	}
	if err := sorter.SortDocs(docs, s); err != nil {
		return nil, err
	}
	var out []bson.D
	for _, d := range docs {
		ok, pos, err := m.MatchPosition(d, nil)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		r, err := p.Apply(d, &Context{Positional: pos})
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// canonical renders documents as canonical extended JSON, which keeps field order and
// numeric types, so the comparison is exact.
func canonical(t *testing.T, docs any) string {
	t.Helper()
	b, err := bson.MarshalExtJSON(bson.D{{Key: "docs", Value: docs}}, true, false)
	require.NoError(t, err)
	return string(b)
}

func TestConformance(t *testing.T) {
	cases, err := conformance.Load("projection.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(cases), 100)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			before := canonical(t, c.Docs)
			got, err := runCase(c)
			require.Equal(t, before, canonical(t, c.Docs), "input documents were modified")
			if c.Error != 0 {
				require.Error(t, err)
				require.True(t, mongoerr.HasCode(err, c.Error), "want code %d, got %v", c.Error, err)
				return
			}
			require.NoError(t, err)
			want, ok := c.Expect.(bson.A)
			require.True(t, ok, "expect must be an array")
			gotA := bson.A{}
			for _, d := range got {
				gotA = append(gotA, d)
			}
			require.Equal(t, canonical(t, want), canonical(t, gotA))
		})
	}
}

func d(kv ...any) bson.D {
	out := bson.D{}
	for i := 0; i < len(kv); i += 2 {
		out = append(out, bson.E{Key: kv[i].(string), Value: kv[i+1]})
	}
	return out
}

func mustCompile(t testing.TB, spec bson.D, mode Mode, vars ...string) *Projection {
	t.Helper()
	p, err := Compile(spec, mode, vars...)
	require.NoError(t, err)
	return p
}

func TestCompileErrors(t *testing.T) {
	for _, c := range []struct {
		spec bson.D
		mode Mode
		code int32
	}{
		{d("a", d("$meta", "textScore")), Find, mongoerr.NotImplemented},
		{d("a", d("$meta", "textScore")), Aggregate, mongoerr.NotImplemented},
		{d("a", int32(0), "b", d("$meta", "textScore")), Find, mongoerr.NotImplemented},
		// Not find's syntax, so parsed as the aggregation $slice, whose constant
		// arguments fail when folded.
		{d("a", d("$slice", bson.A{int32(1), "x"})), Find, 28724},
		{d("a", d("$elemMatch", d("$bogus", int32(1)))), Find, mongoerr.BadValue},
		{d("a", d("b", int32(1), "$c", int32(1))), Find, 16410},
		{d("a", "$"), Find, 16872},
		{d("a", d("$add", "$b"), "a", int32(1)), Find, 31250},
		{d("a.b.$", int32(1), "a.b.$", int32(1)), Find, 31276},
		// A collision inside find $slice falls back to the aggregation $slice, which fails first.
		{d("a", d("$slice", int32(1)), "a", d("$slice", int32(2))), Find, 28667},
		{d("a", d("$slice", bson.A{int32(0), int32(1)}), "a", d("$slice", bson.A{"$x", int32(1)})), Find, 31250},
		{d("a", int32(1), "x", "$$undefinedVar"), Find, 17276},
		{bson.D{}, Mode(7), mongoerr.InternalError},
		{d("a", d("b", d("$elemMatch", d("x", int32(1))))), Aggregate, mongoerr.InvalidPipelineOperator},
	} {
		_, err := Compile(c.spec, c.mode)
		require.Error(t, err, "%v", c.spec)
		require.True(t, mongoerr.HasCode(err, c.code), "%v: want %d, got %v", c.spec, c.code, err)
	}
}

func TestFindSliceFallsBackToExpression(t *testing.T) {
	// ["$arr", 1] is not find's [skip, limit], so it is the aggregation $slice: a computed
	// field, which makes the projection an inclusion.
	p := mustCompile(t, d("x", d("$slice", bson.A{"$arr", int32(1)})), Find)
	require.True(t, p.IsInclusion())
	out, err := p.Apply(d("_id", int32(1), "arr", bson.A{int32(7), int32(8)}, "y", int32(1)), nil)
	require.NoError(t, err)
	require.Equal(t, d("_id", int32(1), "x", bson.A{int32(7)}), out)
}

func TestDollarPrefixedAllowedNames(t *testing.T) {
	// "$id" is a valid field name (DBRef), so {a: {$id: 1}} is a nested projection.
	p := mustCompile(t, d("a", d("$id", int32(1))), Find)
	out, err := p.Apply(d("_id", int32(1), "a", d("$ref", "c", "$id", int32(5))), nil)
	require.NoError(t, err)
	require.Equal(t, d("_id", int32(1), "a", d("$id", int32(5))), out)
}

func TestKindAndPositional(t *testing.T) {
	require.True(t, mustCompile(t, d("a", int32(1)), Find).IsInclusion())
	require.False(t, mustCompile(t, d("a", int32(0)), Find).IsInclusion())
	require.False(t, mustCompile(t, bson.D{}, Find).IsInclusion())
	require.False(t, mustCompile(t, d("a", d("$slice", int32(1))), Find).IsInclusion())
	require.True(t, mustCompile(t, d("a", d("$elemMatch", d("b", int32(1)))), Find).IsInclusion())
	require.True(t, mustCompile(t, d("x", "$a"), Aggregate).IsInclusion())
	require.True(t, mustCompile(t, d("a.$", int32(1)), Find).UsesPositional())
	require.False(t, mustCompile(t, d("a", int32(1)), Find).UsesPositional())
}

func TestPositionalRuntimeErrors(t *testing.T) {
	p := mustCompile(t, d("a.$", int32(1)), Find)
	doc := d("_id", int32(1), "a", bson.A{int32(1), int32(2)})
	_, err := p.Apply(doc, nil)
	require.True(t, mongoerr.HasCode(err, 51246), "%v", err)
	_, err = p.Apply(doc, &Context{Positional: 5})
	require.True(t, mongoerr.HasCode(err, 51247), "%v", err)
	out, err := p.Apply(doc, &Context{Positional: 1})
	require.NoError(t, err)
	require.Equal(t, d("_id", int32(1), "a", bson.A{int32(2)}), out)
}

func TestEnvAndVariables(t *testing.T) {
	p := mustCompile(t, d("x", "$$v", "n", "$$NOW", "_id", int32(0)), Aggregate, "v")
	env := &expr.Env{Vars: map[string]any{"v": "val"}, Now: bson.DateTime(42)}
	out, err := p.Apply(d("_id", int32(1)), &Context{Env: env})
	require.NoError(t, err)
	require.Equal(t, d("x", "val", "n", bson.DateTime(42)), out)
}

func TestExpressionErrorsPropagate(t *testing.T) {
	p := mustCompile(t, d("x", d("$add", bson.A{"$a", "text"})), Find)
	_, err := p.Apply(d("_id", int32(1), "a", int32(1)), nil)
	require.Error(t, err)
	var me *mongoerr.Error
	require.ErrorAs(t, err, &me)
}

// TestInputNotModified applies projections that rebuild nested structures and checks the
// input is untouched, including when the output is modified afterwards.
func TestInputNotModified(t *testing.T) {
	doc := d("_id", int32(1),
		"a", bson.A{d("b", int32(1), "c", int32(2)), int32(7), bson.A{d("b", int32(3))}},
		"s", bson.A{int32(1), int32(2), int32(3)},
		"e", d("f", bson.A{int32(4), int32(5)}, "g", int32(6)))
	orig := value.CopyDoc(doc)
	specs := []bson.D{
		d("a.b", int32(1), "a.n", d("$literal", int32(0))),
		d("a.b", int32(0)),
		d("s", d("$slice", int32(-1)), "e.f", d("$slice", int32(1))),
		d("e", d("f", d("$slice", bson.A{int32(1), int32(1)}))),
		d("x", "$a", "y", "$$ROOT"),
		d("a.b", "computed"),
		d("s.$", int32(1)),
	}
	for _, spec := range specs {
		p := mustCompile(t, spec, Find)
		out, err := p.Apply(doc, &Context{Positional: 0})
		require.NoError(t, err, "%v", spec)
		require.Equal(t, orig, doc, "%v", spec)
		_ = out
	}
}

func TestSliceArithmetic(t *testing.T) {
	arr := bson.A{int32(0), int32(1), int32(2), int32(3), int32(4)}
	for _, c := range []struct {
		hasSkip     bool
		skip, limit int32
		want        bson.A
	}{
		{false, 0, 2, bson.A{int32(0), int32(1)}},
		{false, 0, -2, bson.A{int32(3), int32(4)}},
		{false, 0, -2147483648, arr},
		{false, 0, 2147483647, arr},
		{true, 2147483647, 2147483647, bson.A{}},
		{true, -2147483648, 2, bson.A{int32(0), int32(1)}},
		{true, 4, 10, bson.A{int32(4)}},
		{true, -1, 10, bson.A{int32(4)}},
	} {
		got := sliceOp{hasSkip: c.hasSkip, skip: c.skip, limit: c.limit}.slice(arr)
		require.Equal(t, c.want, got, "%+v", c)
	}
	require.Equal(t, int32(2147483647), safeInt32(1e300))
	require.Equal(t, int32(-2147483648), safeInt32(int64(-1)<<40))
	require.Equal(t, int32(0), safeInt32(nanValue()))
	dec, err := bson.ParseDecimal128("2.7")
	require.NoError(t, err)
	require.Equal(t, int32(2), safeInt32(dec))
}

func nanValue() float64 {
	zero := 0.0
	return zero / zero
}

func TestManyFieldsUseIndex(t *testing.T) {
	spec := bson.D{}
	doc := bson.D{{Key: "_id", Value: int32(0)}}
	want := bson.D{{Key: "_id", Value: int32(0)}}
	for i := 0; i < 20; i++ {
		name := string(rune('a' + i))
		spec = append(spec, bson.E{Key: name, Value: int32(1)})
		doc = append(doc, bson.E{Key: name, Value: int32(i)}, bson.E{Key: name + "x", Value: int32(i)})
		want = append(want, bson.E{Key: name, Value: int32(i)})
	}
	p := mustCompile(t, spec, Find)
	require.NotNil(t, p.root.index)
	out, err := p.Apply(doc, nil)
	require.NoError(t, err)
	require.Equal(t, want, out)
}

func benchDoc() bson.D {
	return d("_id", int32(1), "name", "widget", "price", 9.5, "qty", int32(3),
		"tags", bson.A{"a", "b", "c"},
		"dims", d("h", 1.0, "w", 2.0, "d", 3.0),
		"items", bson.A{d("sku", "x", "n", int32(1)), d("sku", "y", "n", int32(2))},
		"notes", "some text", "created", bson.DateTime(0))
}

func BenchmarkInclusionTopLevel(b *testing.B) {
	p := mustCompile(b, d("name", int32(1), "price", int32(1)), Find)
	doc := benchDoc()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Apply(doc, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExclusion(b *testing.B) {
	p := mustCompile(b, d("notes", int32(0), "items.n", int32(0)), Find)
	doc := benchDoc()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Apply(doc, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkComputed(b *testing.B) {
	p := mustCompile(b, d("name", int32(1), "total", d("$multiply", bson.A{"$price", "$qty"}), "items.sku", int32(1)), Aggregate)
	doc := benchDoc()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Apply(doc, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzProjection checks that no specification or document makes Compile or Apply panic.
func FuzzProjection(f *testing.F) {
	seeds := []bson.D{
		d("a", int32(1)), d("a.b", int32(0)), d("a", d("$slice", bson.A{int32(-1), int32(2)})),
		d("a.$", int32(1)), d("a", d("$elemMatch", d("b", int32(1)))), d("a.b", "$c", "x", d("y", int32(1))),
		d("a", d("b", d("c", int32(1))), "_id", int32(0)),
	}
	doc := d("_id", int32(1), "a", bson.A{d("b", bson.A{int32(1), d("c", int32(2))}), int32(3)}, "c", int32(4))
	for _, s := range seeds {
		f.Add(value.MustEncode(s), value.MustEncode(doc), false)
	}
	f.Fuzz(func(t *testing.T, specBytes, docBytes []byte, agg bool) {
		spec, err := value.Decode(specBytes)
		if err != nil {
			return
		}
		in, err := value.Decode(docBytes)
		if err != nil {
			return
		}
		mode := Find
		if agg {
			mode = Aggregate
		}
		p, err := Compile(spec, mode)
		if err != nil {
			return
		}
		for _, pos := range []int{-1, 0, 3} {
			_, _ = p.Apply(in, &Context{Positional: pos})
		}
	})
}
