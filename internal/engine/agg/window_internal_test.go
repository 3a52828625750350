package agg

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestWinSlidingNumeric compares the incremental evaluation of $integral and the
// covariances with recomputing every window, on random data.
func TestWinSlidingNumeric(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	docs := make([]bson.D, 120)
	tv := int32(0)
	for i := range docs {
		tv += int32(1 + r.IntN(3))
		var x any = float64(r.IntN(1000)) / 8
		if r.IntN(10) == 0 {
			x = "skip" // ignored by the covariances
		}
		docs[i] = bson.D{{Key: "t", Value: tv}, {Key: "y", Value: int32(r.IntN(50))}, {Key: "x", Value: x}}
	}
	windows := []bson.D{
		{{Key: "documents", Value: bson.A{int32(-4), int32(0)}}},
		{{Key: "documents", Value: bson.A{int32(-2), int32(3)}}},
		{{Key: "range", Value: bson.A{int32(-6), int32(2)}}},
		{{Key: "range", Value: bson.A{int32(1), int32(9)}}},
	}
	fns := []bson.D{
		{{Key: "$integral", Value: bson.D{{Key: "input", Value: "$y"}}}},
		{{Key: "$covariancePop", Value: bson.A{"$x", "$y"}}},
		{{Key: "$covarianceSamp", Value: bson.A{"$x", "$y"}}},
	}
	sort := &winSort{present: true, fields: []winSortField{{path: "t"}}}
	st := &windowStage{sort: *sort}
	var err error
	st.sortPath, err = expr.Compile("$t")
	require.NoError(t, err)
	c := &Context{Env: &expr.Env{}}
	for _, w := range windows {
		for _, fn := range fns {
			spec := append(bson.D{}, fn...)
			spec = append(spec, bson.E{Key: "window", Value: w})
			f, err := parseWindowFunction("out", spec, sort, nil)
			require.NoError(t, err)
			sl := f.(*winSliding)
			p := &winPartition{docs: docs, st: st}
			got := make([]any, len(docs))
			require.NoError(t, sl.eval(c, p, got))
			span, err := sl.bounds.spans(c, p)
			require.NoError(t, err)
			want := make([]any, len(docs))
			require.NoError(t, sl.recompute(c, p, span, want))
			for i := range got {
				require.Truef(t, winClose(want[i], got[i]), "%v %v doc %d: want %v got %v", fn, w, i, want[i], got[i])
			}
		}
	}
}

func winClose(a, b any) bool {
	if value.IsNullish(a) || value.IsNullish(b) {
		return value.IsNullish(a) && value.IsNullish(b)
	}
	x, ok1 := value.ToFloat64(a)
	y, ok2 := value.ToFloat64(b)
	if !ok1 || !ok2 {
		return false
	}
	return math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(x))
}

// TestDensifyLimit checks the cap on generated documents.
func TestDensifyLimit(t *testing.T) {
	defer func(n int) { densifyMaxDocs = n }(densifyMaxDocs)
	densifyMaxDocs = 10
	st, err := parseDensify(bson.D{{Key: "field", Value: "v"}, {Key: "range", Value: bson.D{{Key: "step", Value: int32(1)}, {Key: "bounds", Value: bson.A{int32(0), int32(100)}}}}}, &Options{})
	require.NoError(t, err)
	_, err = Collect(st.run(&Context{Env: &expr.Env{}}, func(func(bson.D, error) bool) {}))
	require.True(t, mongoerr.HasCode(err, 5897900), "got %v", err)
}

func TestWinAddTime(t *testing.T) {
	for _, tc := range []struct {
		from   string
		unit   winTimeUnit
		amount int64
		want   string
	}{
		{"2020-01-31T10:00:00Z", winMonth, 1, "2020-02-29T10:00:00Z"},
		{"2020-03-31T00:00:00Z", winMonth, -1, "2020-02-29T00:00:00Z"},
		{"2020-02-29T00:00:00Z", winYear, 1, "2021-02-28T00:00:00Z"},
		{"2020-11-30T00:00:00Z", winQuarter, 1, "2021-02-28T00:00:00Z"},
		{"2020-01-01T00:00:00Z", winMonth, -13, "2018-12-01T00:00:00Z"},
		{"2020-01-01T00:00:00Z", winWeek, 2, "2020-01-15T00:00:00Z"},
		{"2020-01-01T00:00:00Z", winHour, -1, "2019-12-31T23:00:00Z"},
	} {
		from, err := time.Parse(time.RFC3339, tc.from)
		require.NoError(t, err)
		want, err := time.Parse(time.RFC3339, tc.want)
		require.NoError(t, err)
		require.Equal(t, want.UnixMilli(), winAddTime(from.UnixMilli(), tc.unit, tc.amount), "%s %d", tc.from, tc.amount)
	}
}
