package agg_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/agg"
	"github.com/modjo-orm/modjo/internal/engine/conformance"
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestWindowConformance runs the $setWindowFields, $densify and $fill cases directly on
// the pipeline code.
func TestWindowConformance(t *testing.T) {
	cases, err := conformance.Load("aggregate_window.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(cases), 100)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) { runPipelineCase(t, c) })
	}
}

func runWindowPipeline(t testing.TB, pipeline bson.A, docs []bson.D) ([]bson.D, error) {
	t.Helper()
	p, err := agg.Compile(pipeline, agg.Options{DB: "db"})
	if err != nil {
		return nil, err
	}
	return agg.Collect(p.RunOn(&agg.Context{Env: &expr.Env{}}, docs))
}

func swf(spec bson.D) bson.A {
	return bson.A{bson.D{{Key: "$setWindowFields", Value: spec}}}
}

// winRandomDocs builds documents with a partition g, a sort value t (with ties) and a
// value x that is an int, a double, null or missing.
func winRandomDocs(r *rand.Rand, n int) []bson.D {
	docs := make([]bson.D, n)
	for i := range docs {
		d := bson.D{{Key: "_id", Value: int32(i)}, {Key: "g", Value: int32(r.IntN(3))}, {Key: "t", Value: int32(r.IntN(25))}}
		switch r.IntN(6) {
		case 0:
			d = append(d, bson.E{Key: "x", Value: nil})
		case 1:
		case 2:
			d = append(d, bson.E{Key: "x", Value: float64(r.IntN(40)) + 0.5}) // never equal to an int: ties of equal values of different types may pick either
		default:
			d = append(d, bson.E{Key: "x", Value: int32(r.IntN(100) - 50)})
		}
		docs[i] = d
	}
	return docs
}

// TestWindowSlidingMatchesRecompute checks the incremental (add/remove) evaluation of
// sliding windows against recomputing every window from scratch.
func TestWindowSlidingMatchesRecompute(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	docs := winRandomDocs(r, 300)
	// The order $setWindowFields sorts into: g, then t, ties in input order.
	sorted := slices.Clone(docs)
	slices.SortStableFunc(sorted, func(a, b bson.D) int {
		if c := value.Compare(value.Get(a, "g"), value.Get(b, "g")); c != 0 {
			return c
		}
		return value.Compare(value.Get(a, "t"), value.Get(b, "t"))
	})
	type window struct {
		kind   string
		lo, hi any
	}
	windows := []window{
		{"documents", int32(-3), int32(0)}, {"documents", int32(-5), int32(5)}, {"documents", int32(2), int32(4)},
		{"documents", int32(-4), int32(-2)}, {"documents", "current", "unbounded"}, {"documents", "unbounded", int32(2)},
		{"range", int32(-3), int32(0)}, {"range", int32(-2), int32(2)}, {"range", "current", int32(4)},
		{"range", int32(1), int32(3)}, {"range", "unbounded", "current"}, {"range", int32(-6), "current"},
	}
	ops := []struct {
		op  string
		arg any
	}{
		{"$sum", "$x"}, {"$avg", "$x"}, {"$min", "$x"}, {"$max", "$x"}, {"$push", "$x"},
		{"$count", bson.D{}}, {"$first", "$x"}, {"$last", "$x"},
		{"$minN", bson.D{{Key: "input", Value: "$x"}, {Key: "n", Value: int32(2)}}},
		{"$lastN", bson.D{{Key: "input", Value: "$x"}, {Key: "n", Value: int32(2)}}},
	}
	for _, w := range windows {
		for _, o := range ops {
			t.Run(fmt.Sprintf("%s %v %v %s", w.kind, w.lo, w.hi, o.op), func(t *testing.T) {
				spec := bson.D{{Key: o.op, Value: o.arg}, {Key: "window", Value: bson.D{{Key: w.kind, Value: bson.A{w.lo, w.hi}}}}}
				out, err := runWindowPipeline(t, swf(bson.D{
					{Key: "partitionBy", Value: "$g"}, {Key: "sortBy", Value: bson.D{{Key: "t", Value: int32(1)}}},
					{Key: "output", Value: bson.D{{Key: "w", Value: spec}}},
				}), docs)
				require.NoError(t, err)
				require.Len(t, out, len(sorted))
				acc, err := expr.CompileAccumulator(o.op, o.arg, expr.InWindow)
				if err != nil {
					acc = nil // $first/$last are computed by the stage itself
				}
				for i, d := range out {
					require.Equal(t, value.Get(sorted[i], "_id"), value.Get(d, "_id"))
					want := winOracle(t, sorted, i, w.kind, w.lo, w.hi, o.op, acc)
					require.Truef(t, conformance.Same(want, value.Get(d, "w")), "doc %v: want %s got %s", value.Get(d, "_id"), conformance.Show(want), conformance.Show(value.Get(d, "w")))
				}
			})
		}
	}
}

// winOracle computes one window by brute force.
func winOracle(t *testing.T, sorted []bson.D, i int, kind string, lo, hi any, op string, acc *expr.Accumulator) any {
	g := value.Get(sorted[i], "g")
	var part []int
	for j, d := range sorted {
		if value.Compare(value.Get(d, "g"), g) == 0 {
			part = append(part, j)
		}
	}
	pos := slices.Index(part, i)
	var members []bson.D
	for k, j := range part {
		in := true
		if kind == "documents" {
			if n, ok := lo.(int32); ok {
				in = in && k >= pos+int(n)
			} else if lo == "current" {
				in = in && k >= pos
			}
			if n, ok := hi.(int32); ok {
				in = in && k <= pos+int(n)
			} else if hi == "current" {
				in = in && k <= pos
			}
		} else {
			v, _ := value.Get(sorted[j], "t").(int32)
			base, _ := value.Get(sorted[i], "t").(int32)
			if n, ok := lo.(int32); ok {
				in = in && v >= base+n
			} else if lo == "current" {
				in = in && k >= pos
			}
			if n, ok := hi.(int32); ok {
				in = in && v <= base+n
			} else if hi == "current" {
				in = in && k <= pos
			}
		}
		if in {
			members = append(members, sorted[j])
		}
	}
	switch op {
	case "$first", "$last":
		if len(members) == 0 {
			return nil
		}
		d := members[0]
		if op == "$last" {
			d = members[len(members)-1]
		}
		v := value.Get(d, "x")
		if value.IsMissing(v) {
			return nil
		}
		return v
	}
	st := acc.NewState()
	for _, d := range members {
		require.NoError(t, st.Add(&expr.Env{}, d))
	}
	v, err := st.Result()
	require.NoError(t, err)
	return v
}

// TestWindowDoesNotModifyInput checks the stage invariant: documents received are never
// modified, dotted outputs included.
func TestWindowDoesNotModifyInput(t *testing.T) {
	docs := []bson.D{
		{{Key: "_id", Value: int32(1)}, {Key: "t", Value: int32(2)}, {Key: "a", Value: bson.D{{Key: "b", Value: int32(1)}}}},
		{{Key: "_id", Value: int32(2)}, {Key: "t", Value: int32(1)}, {Key: "a", Value: bson.D{{Key: "b", Value: int32(2)}}}},
	}
	before := value.DeepCopy(bson.A{docs[0], docs[1]})
	out, err := runWindowPipeline(t, swf(bson.D{
		{Key: "sortBy", Value: bson.D{{Key: "t", Value: int32(1)}}},
		{Key: "output", Value: bson.D{
			{Key: "a.c", Value: bson.D{{Key: "$sum", Value: "$a.b"}}},
			{Key: "t", Value: bson.D{{Key: "$rank", Value: bson.D{}}}},
		}},
	}), docs)
	require.NoError(t, err)
	require.Len(t, out, 2)
	require.True(t, conformance.Same(before, bson.A{docs[0], docs[1]}))
}

// TestWindowStopsEarly checks that a consumer stopping the stream (as $limit does) ends it.
func TestWindowStopsEarly(t *testing.T) {
	docs := winRandomDocs(rand.New(rand.NewPCG(3, 4)), 50)
	for _, pipeline := range []bson.A{
		append(swf(bson.D{{Key: "sortBy", Value: bson.D{{Key: "t", Value: int32(1)}}}, {Key: "output", Value: bson.D{{Key: "s", Value: bson.D{{Key: "$sum", Value: "$x"}}}}}}), bson.D{{Key: "$limit", Value: int32(3)}}),
		{bson.D{{Key: "$densify", Value: bson.D{{Key: "field", Value: "t"}, {Key: "range", Value: bson.D{{Key: "step", Value: int32(1)}, {Key: "bounds", Value: "full"}}}}}}, bson.D{{Key: "$limit", Value: int32(3)}}},
	} {
		out, err := runWindowPipeline(t, pipeline, docs)
		require.NoError(t, err)
		require.Len(t, out, 3)
	}
}

// TestWindowErrors covers rules the conformance cases leave out because they differ
// between MongoDB versions.
func TestWindowErrors(t *testing.T) {
	docs := []bson.D{{{Key: "_id", Value: int32(1)}, {Key: "t", Value: int32(1)}}}
	for _, tc := range []struct {
		name string
		spec bson.D
		code int32
	}{
		{"range with a descending sortBy", bson.D{{Key: "sortBy", Value: bson.D{{Key: "t", Value: int32(-1)}}}, {Key: "output", Value: bson.D{{Key: "s", Value: bson.D{{Key: "$sum", Value: "$t"}, {Key: "window", Value: bson.D{{Key: "range", Value: bson.A{int32(-1), int32(0)}}}}}}}}}, 8947401},
		{"duplicate stage field", bson.D{{Key: "output", Value: bson.D{}}, {Key: "output", Value: bson.D{}}}, 40413},
		{"$accumulator is not a window function", bson.D{{Key: "output", Value: bson.D{{Key: "s", Value: bson.D{{Key: "$accumulator", Value: bson.D{}}}}}}}, mongoerr.FailedToParse},
		{"$expMovingAvg alpha must be a number", bson.D{{Key: "sortBy", Value: bson.D{{Key: "t", Value: int32(1)}}}, {Key: "output", Value: bson.D{{Key: "s", Value: bson.D{{Key: "$expMovingAvg", Value: bson.D{{Key: "input", Value: "$t"}, {Key: "alpha", Value: "x"}}}}}}}}, mongoerr.FailedToParse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runWindowPipeline(t, swf(tc.spec), docs)
			require.Error(t, err)
			require.Truef(t, mongoerr.HasCode(err, tc.code), "want %d, got %v", tc.code, err)
		})
	}
}

// TestWindowConcurrentRuns runs one compiled pipeline from several goroutines (for -race).
func TestWindowConcurrentRuns(t *testing.T) {
	docs := winRandomDocs(rand.New(rand.NewPCG(5, 6)), 200)
	p, err := agg.Compile(swf(bson.D{
		{Key: "partitionBy", Value: "$g"}, {Key: "sortBy", Value: bson.D{{Key: "t", Value: int32(1)}}},
		{Key: "output", Value: bson.D{
			{Key: "s", Value: bson.D{{Key: "$sum", Value: "$x"}, {Key: "window", Value: bson.D{{Key: "documents", Value: bson.A{int32(-2), int32(2)}}}}}},
			{Key: "r", Value: bson.D{{Key: "$rank", Value: bson.D{}}}},
			{Key: "i", Value: bson.D{{Key: "$integral", Value: bson.D{{Key: "input", Value: "$t"}}}, {Key: "window", Value: bson.D{{Key: "range", Value: bson.A{int32(-5), int32(0)}}}}}},
		}},
	}), agg.Options{})
	require.NoError(t, err)
	first, err := agg.Collect(p.RunOn(&agg.Context{Env: &expr.Env{}}, docs))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := agg.Collect(p.RunOn(&agg.Context{Env: &expr.Env{}}, docs))
			if err == nil && !conformance.Same(winDocsArray(first), winDocsArray(out)) {
				err = fmt.Errorf("results differ")
			}
			require.NoError(t, err)
		}()
	}
	wg.Wait()
}

func winDocsArray(docs []bson.D) bson.A {
	a := make(bson.A, len(docs))
	for i, d := range docs {
		a[i] = d
	}
	return a
}

// BenchmarkSetWindowFields: a sliding $sum (and $avg) over 100k documents with windows of
// 10 and 1000 documents (input in sortBy order, as time series usually arrive);
// incremental windows make the time independent of the width.
func BenchmarkSetWindowFields(b *testing.B) {
	const n = 100_000
	docs := make([]bson.D, n)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: int32(i)}, {Key: "t", Value: int32(i)}, {Key: "x", Value: int32(i % 97)}}
	}
	for _, op := range []string{"$sum", "$avg"} {
		for _, width := range []int32{10, 1000} {
			b.Run(fmt.Sprintf("%s/window=%d", op, width), func(b *testing.B) {
				p, err := agg.Compile(swf(bson.D{
					{Key: "sortBy", Value: bson.D{{Key: "t", Value: int32(1)}}},
					{Key: "output", Value: bson.D{{Key: "w", Value: bson.D{{Key: op, Value: "$x"},
						{Key: "window", Value: bson.D{{Key: "documents", Value: bson.A{-width + 1, int32(0)}}}}}}}},
				}), agg.Options{})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					out, err := agg.Collect(p.RunOn(&agg.Context{Env: &expr.Env{}}, docs))
					if err != nil || len(out) != n {
						b.Fatal(err, len(out))
					}
				}
			})
		}
	}
}

// TestWindowMalformedSpecs feeds odd specifications and data: each must give a result or
// an error, never a panic.
func TestWindowMalformedSpecs(t *testing.T) {
	docs := []bson.D{
		{{Key: "_id", Value: int32(1)}, {Key: "t", Value: bson.DateTime(math.MaxInt64 - 5)}, {Key: "x", Value: bson.A{int32(1)}}},
		{{Key: "_id", Value: int32(2)}, {Key: "t", Value: bson.DateTime(math.MinInt64 + 5)}, {Key: "x", Value: "s"}},
		{{Key: "_id", Value: int32(3)}, {Key: "t", Value: math.Inf(1)}, {Key: "x", Value: math.NaN()}},
	}
	specs := []bson.A{
		swf(bson.D{{Key: "sortBy", Value: bson.D{}}, {Key: "output", Value: bson.D{{Key: "s", Value: bson.D{{Key: "$sum", Value: "$x"}, {Key: "window", Value: bson.D{{Key: "documents", Value: bson.A{int32(math.MinInt32), int32(math.MaxInt32)}}}}}}}}}),
		swf(bson.D{{Key: "sortBy", Value: bson.D{{Key: "t", Value: int32(1)}}}, {Key: "output", Value: bson.D{{Key: "s", Value: bson.D{{Key: "$sum", Value: "$x"}, {Key: "window", Value: bson.D{{Key: "range", Value: bson.A{int32(math.MinInt32), int32(math.MaxInt32)}}, {Key: "unit", Value: "year"}}}}}}}}),
		swf(bson.D{{Key: "sortBy", Value: bson.D{{Key: "t", Value: int32(1)}}}, {Key: "output", Value: bson.D{{Key: "s", Value: bson.D{{Key: "$sum", Value: "$x"}, {Key: "window", Value: bson.D{{Key: "range", Value: bson.A{int32(-7), int32(7)}}, {Key: "unit", Value: "week"}}}}}}}}),
		swf(bson.D{{Key: "sortBy", Value: bson.D{{Key: "t", Value: int32(1)}}}, {Key: "output", Value: bson.D{{Key: "s", Value: bson.D{{Key: "$derivative", Value: bson.D{{Key: "input", Value: "$x"}}}, {Key: "window", Value: bson.D{{Key: "documents", Value: bson.A{int32(-1), int32(0)}}}}}}}}}),
		swf(bson.D{{Key: "sortBy", Value: bson.D{{Key: "t", Value: int32(1)}}}, {Key: "output", Value: bson.D{{Key: "s", Value: bson.D{{Key: "$integral", Value: bson.D{{Key: "input", Value: "$_id"}, {Key: "unit", Value: "day"}}}}}}}}),
		swf(bson.D{{Key: "sortBy", Value: bson.D{{Key: "t", Value: int32(1)}}}, {Key: "output", Value: bson.D{{Key: "s", Value: bson.D{{Key: "$covariancePop", Value: bson.A{"$x", "$_id"}}}}}}}),
		swf(bson.D{{Key: "sortBy", Value: bson.D{{Key: "t", Value: int32(1)}}}, {Key: "output", Value: bson.D{{Key: "s", Value: bson.D{{Key: "$expMovingAvg", Value: bson.D{{Key: "input", Value: "$x"}, {Key: "N", Value: math.Inf(1)}}}}}}}}),
		swf(bson.D{{Key: "sortBy", Value: bson.D{{Key: "t", Value: int32(1)}}}, {Key: "output", Value: bson.D{{Key: "s", Value: bson.D{{Key: "$expMovingAvg", Value: bson.D{{Key: "input", Value: "$x"}, {Key: "N", Value: math.NaN()}}}}}}}}),
		swf(bson.D{{Key: "sortBy", Value: bson.D{{Key: "t", Value: int32(1)}}}, {Key: "output", Value: bson.D{{Key: "s", Value: bson.D{{Key: "$linearFill", Value: "$x"}}}}}}),
		swf(bson.D{{Key: "output", Value: bson.D{{Key: "s", Value: bson.D{}}}}}),
		swf(bson.D{{Key: "output", Value: bson.D{{Key: "s", Value: bson.D{{Key: "$shift", Value: bson.D{{Key: "by", Value: math.MaxInt64}}}}}}}}),
		{bson.D{{Key: "$densify", Value: bson.D{{Key: "field", Value: "t"}, {Key: "range", Value: bson.D{{Key: "step", Value: int32(1)}, {Key: "unit", Value: "year"}, {Key: "bounds", Value: "full"}}}}}}},
		{bson.D{{Key: "$densify", Value: bson.D{{Key: "field", Value: "x"}, {Key: "range", Value: bson.D{{Key: "step", Value: math.NaN()}, {Key: "bounds", Value: "full"}}}}}}},
		{bson.D{{Key: "$densify", Value: bson.D{{Key: "field", Value: "_id"}, {Key: "range", Value: bson.D{{Key: "step", Value: 1e-300}, {Key: "bounds", Value: bson.A{1e300, math.Inf(1)}}}}}}}},
		{bson.D{{Key: "$fill", Value: bson.D{{Key: "output", Value: bson.D{{Key: "x", Value: bson.D{}}}}}}}},
		{bson.D{{Key: "$fill", Value: bson.D{{Key: "partitionBy", Value: int32(1)}, {Key: "output", Value: bson.D{{Key: "x", Value: bson.D{{Key: "value", Value: int32(1)}}}}}}}}},
	}
	for i, pipeline := range specs {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			require.NotPanics(t, func() { _, _ = runWindowPipeline(t, pipeline, docs) })
		})
	}
}
