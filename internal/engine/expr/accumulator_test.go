package expr_test

import (
	"math"
	"sync"
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/conformance"
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func accDec(t testing.TB, s string) bson.Decimal128 {
	d, err := bson.ParseDecimal128(s)
	require.NoError(t, err)
	return d
}

// accFold runs one accumulator over the values (as field x of successive documents) with
// $group semantics.
func accFold(t testing.TB, op string, arg any, vals ...any) (any, error) {
	t.Helper()
	acc, err := expr.CompileAccumulator(op, arg, expr.InGroup)
	require.NoError(t, err)
	st, err := acc.NewGroupState(accTestEnv, nil)
	require.NoError(t, err)
	for _, v := range vals {
		doc := bson.D{}
		if v != accNoValue {
			doc = bson.D{{Key: "x", Value: v}}
		}
		if err := st.Add(accTestEnv, doc); err != nil {
			return nil, err
		}
	}
	return st.Result()
}

// accNoValue stands for a document without the field.
var accNoValue any = struct{ missing bool }{true}

func TestIsAccumulator(t *testing.T) {
	for _, tc := range []struct {
		op            string
		group, window bool
	}{
		{"$sum", true, true}, {"$count", true, true}, {"$push", true, true},
		{"$mergeObjects", true, false}, {"$accumulator", true, false},
		{"$median", true, true}, {"$topN", true, true}, {"$bottom", true, true},
		{"$rank", false, true}, {"$shift", false, true}, {"$linearFill", false, true},
		{"$covarianceSamp", false, true}, {"$expMovingAvg", false, true},
		{"$foo", false, false}, {"sum", false, false}, {"$concatArrays", true, true}, {"$setUnion", true, true},
	} {
		require.Equal(t, tc.group, expr.IsAccumulator(tc.op, expr.InGroup), tc.op)
		require.Equal(t, tc.group, expr.IsAccumulator(tc.op, expr.InBucket), tc.op)
		require.Equal(t, tc.window, expr.IsAccumulator(tc.op, expr.InWindow), tc.op)
	}
}

func TestCompileAccumulatorErrors(t *testing.T) {
	for _, tc := range []struct {
		op    string
		arg   any
		where expr.AccumulatorContext
		code  int32
	}{
		{"$mergeObjects", "$x", expr.InWindow, mongoerr.FailedToParse},
		{"$foo", "$x", expr.InWindow, mongoerr.FailedToParse},
		{"$rank", bson.D{}, expr.InWindow, mongoerr.NotImplemented},
		{"$rank", bson.D{}, expr.InGroup, 15952},
		{"$accumulator", bson.D{}, expr.InGroup, mongoerr.NotImplemented},
		{"$sum", bson.A{"$x"}, expr.InBucket, 40237},
		{"$nope", bson.A{}, expr.InGroup, 40237}, // the array check comes first
		{"$avg", bson.D{{Key: "$bad", Value: 1}}, expr.InGroup, mongoerr.InvalidPipelineOperator},
		{"$count", bson.D{{Key: "a", Value: 1}}, expr.InWindow, mongoerr.TypeMismatch},
	} {
		_, err := expr.CompileAccumulator(tc.op, tc.arg, tc.where)
		require.Truef(t, mongoerr.HasCode(err, tc.code), "%s: want %d, got %v", tc.op, tc.code, err)
	}
}

func TestWindowArrayArgumentIsAnExpression(t *testing.T) {
	// In $setWindowFields the argument is any expression: an array literal is an array
	// value, which $sum ignores.
	acc, err := expr.CompileAccumulator("$sum", bson.A{"$x", "$x"}, expr.InWindow)
	require.NoError(t, err)
	st := acc.NewState()
	require.NoError(t, st.Add(accTestEnv, bson.D{{Key: "x", Value: int32(4)}}))
	got, err := st.Result()
	require.NoError(t, err)
	require.Equal(t, int32(0), got)
	require.Equal(t, "$sum", acc.Op())
}

func TestSumTypes(t *testing.T) {
	const maxInt, maxLong = math.MaxInt32, math.MaxInt64
	for _, tc := range []struct {
		vals []any
		want any
	}{
		{nil, int32(0)},
		{[]any{int32(10)}, int32(10)},
		{[]any{int64(10)}, int64(10)},
		{[]any{10.0}, 10.0},
		{[]any{int32(maxInt), int32(10)}, int64(maxInt + 10)},
		{[]any{int32(-maxInt), int32(-10)}, int64(-maxInt - 10)},
		{[]any{int32(maxInt), int64(1)}, int64(maxInt + 1)},
		{[]any{int32(maxInt), 1.0}, float64(maxInt) + 1},
		{[]any{int32(1), int64(maxLong)}, 9223372036854775808.0},
		{[]any{int64(maxLong), int64(maxLong)}, float64(maxLong) * 2},
		{[]any{int64(maxLong), 1.0}, float64(maxLong) + 1},
		{[]any{math.MaxFloat64, math.MaxFloat64}, math.Inf(1)},
		{[]any{int64(maxLong), int64(maxLong), 1.0}, float64(maxLong) * 2},
		{[]any{int64(maxLong), int64(-1), int64(1)}, int64(maxLong)},
		{[]any{int64(math.MinInt64), int64(1), int64(-1)}, int64(math.MinInt64)},
		{[]any{int32(5), nil, "x", accNoValue}, int32(5)},
		{[]any{int32(4), math.NaN()}, math.NaN()},
		{[]any{int64(5), int32(-6)}, int64(-1)},
		{[]any{int32(5), int64(99), 0.2}, 104.2},
	} {
		got, err := accFold(t, "$sum", "$x", tc.vals...)
		require.NoError(t, err)
		require.Truef(t, conformance.Same(tc.want, got), "%v: want %s got %s", tc.vals, conformance.Show(tc.want), conformance.Show(got))
	}
}

func TestSumAndAvgWithDecimals(t *testing.T) {
	d := func(s string) bson.Decimal128 { return accDec(t, s) }
	for _, tc := range []struct {
		op   string
		vals []any
		want string
	}{
		{"$sum", []any{d("-10.100"), d("20.200")}, "10.100"},
		{"$sum", []any{int64(10), int64(10), d("10.000")}, "30.000"},
		{"$sum", []any{2.5, d("2.5")}, "5.0"},
		{"$sum", []any{int32(10), int64(10), 10.5, d("9.6")}, "40.1"},
		{"$sum", []any{int32(1), d("2.5")}, "3.5"},
		{"$avg", []any{d("-1234567890.1234567889"), d("-1234567890.1234567891")}, "-1234567890.1234567890"},
		{"$avg", []any{int64(1234567890123456788), int64(1234567890123456789), d("1234567890123456790.037037036703702")},
			"1234567890123456789.012345678901234"},
		{"$avg", []any{1.0e22, d("9999999999999999999999.9999999999")}, "9999999999999999999999.99999999995"},
	} {
		got, err := accFold(t, tc.op, "$x", tc.vals...)
		require.NoError(t, err)
		require.IsType(t, bson.Decimal128{}, got, tc.vals)
		require.Equal(t, tc.want, got.(bson.Decimal128).String(), "%s %v", tc.op, tc.vals)
	}
}

func TestAvgTypes(t *testing.T) {
	for _, tc := range []struct {
		vals []any
		want any
	}{
		{nil, nil},
		{[]any{int32(3)}, 3.0},
		{[]any{int64(-4)}, -4.0},
		{[]any{int64(10), int64(11)}, 10.5},
		{[]any{int32(5), int64(3)}, 4.0},
		{[]any{int64(math.MaxInt64), int64(math.MaxInt64)}, float64(math.MaxInt64)},
		{[]any{"a", nil}, nil},
	} {
		got, err := accFold(t, "$avg", "$x", tc.vals...)
		require.NoError(t, err)
		require.Truef(t, conformance.Same(tc.want, got), "%v: want %s got %s", tc.vals, conformance.Show(tc.want), conformance.Show(got))
	}
}

func TestAddToSetEquality(t *testing.T) {
	got, err := accFold(t, "$addToSet", "$x",
		int32(1), 1.0, int64(1), accDec(t, "1.00"), 0.0, math.Copysign(0, -1), math.NaN(), math.NaN(),
		"a", bson.Symbol("a"), bson.D{{Key: "a", Value: int32(1)}}, bson.D{{Key: "a", Value: 1.0}},
		bson.A{int32(1)}, bson.A{1.0}, nil, nil, accNoValue, true, true)
	require.NoError(t, err)
	want := bson.A{int32(1), 0.0, math.NaN(), "a", bson.D{{Key: "a", Value: int32(1)}}, bson.A{int32(1)}, nil, true}
	require.Truef(t, conformance.Same(want, got), "got %s", conformance.Show(got))
}

func TestResultCanBeCalledRepeatedly(t *testing.T) {
	for _, tc := range []struct {
		op           string
		arg          any
		first, after any
	}{
		{"$push", "$x", bson.A{int32(1)}, bson.A{int32(1), int32(2)}},
		{"$addToSet", "$x", bson.A{int32(1)}, bson.A{int32(1), int32(2)}},
		{"$mergeObjects", bson.D{{Key: "a", Value: "$x"}}, bson.D{{Key: "a", Value: int32(1)}}, bson.D{{Key: "a", Value: int32(2)}}},
		{"$median", bson.D{{Key: "input", Value: "$x"}, {Key: "method", Value: "approximate"}}, 1.0, 1.0},
		{"$lastN", bson.D{{Key: "input", Value: "$x"}, {Key: "n", Value: int32(1)}}, bson.A{int32(1)}, bson.A{int32(2)}},
		{"$sum", "$x", int32(1), int32(3)},
	} {
		acc, err := expr.CompileAccumulator(tc.op, tc.arg, expr.InGroup)
		require.NoError(t, err)
		st := acc.NewState()
		require.NoError(t, st.Add(accTestEnv, bson.D{{Key: "x", Value: int32(1)}}))
		r1, err := st.Result()
		require.NoError(t, err)
		require.NoError(t, st.Add(accTestEnv, bson.D{{Key: "x", Value: int32(2)}}))
		r2, err := st.Result()
		require.NoError(t, err)
		require.Equal(t, tc.first, r1, tc.op)
		require.Equal(t, tc.after, r2, tc.op)
	}
}

func TestNewStateEvaluatesNWithoutGroupKey(t *testing.T) {
	acc, err := expr.CompileAccumulator("$firstN", bson.D{{Key: "input", Value: "$x"}, {Key: "n", Value: "$$n"}}, expr.InGroup, "n")
	require.NoError(t, err)
	env := &expr.Env{Vars: map[string]any{"n": int32(2)}}
	st := acc.NewState()
	for i := int32(1); i <= 3; i++ {
		require.NoError(t, st.Add(env, bson.D{{Key: "x", Value: i}}))
	}
	got, err := st.Result()
	require.NoError(t, err)
	require.Equal(t, bson.A{int32(1), int32(2)}, got)

	// A field path reads the empty document: missing is not a number.
	acc, err = expr.CompileAccumulator("$firstN", bson.D{{Key: "input", Value: "$x"}, {Key: "n", Value: "$x"}}, expr.InGroup)
	require.NoError(t, err)
	err = acc.NewState().Add(accTestEnv, bson.D{{Key: "x", Value: int32(1)}})
	require.True(t, mongoerr.HasCode(err, 5787902), err)

	// NewGroupState reads n from a document key.
	st2, err := acc.NewGroupState(accTestEnv, bson.D{{Key: "x", Value: int32(1)}})
	require.NoError(t, err)
	require.NoError(t, st2.Add(accTestEnv, bson.D{{Key: "x", Value: "a"}}))
	require.NoError(t, st2.Add(accTestEnv, bson.D{{Key: "x", Value: "b"}}))
	got, err = st2.Result()
	require.NoError(t, err)
	require.Equal(t, bson.A{"a"}, got)
}

func TestPercentileWithVariableP(t *testing.T) {
	spec := bson.D{{Key: "input", Value: "$x"}, {Key: "p", Value: "$$ps"}, {Key: "method", Value: "approximate"}}
	acc, err := expr.CompileAccumulator("$percentile", spec, expr.InGroup, "ps")
	require.NoError(t, err)
	env := &expr.Env{Vars: map[string]any{"ps": bson.A{0.5, int32(1)}}}
	st, err := acc.NewGroupState(env, nil)
	require.NoError(t, err)
	for _, x := range []int32{4, 1, 3, 2} {
		require.NoError(t, st.Add(env, bson.D{{Key: "x", Value: x}}))
	}
	got, err := st.Result()
	require.NoError(t, err)
	require.Equal(t, bson.A{2.0, 4.0}, got)

	_, err = acc.NewGroupState(&expr.Env{Vars: map[string]any{"ps": bson.A{"a"}}}, nil)
	require.True(t, mongoerr.HasCode(err, 7750302), err)
}

func TestArgumentErrorsPropagate(t *testing.T) {
	acc, err := expr.CompileAccumulator("$push", bson.D{{Key: "$first", Value: "$x"}}, expr.InGroup)
	require.NoError(t, err)
	err = acc.NewState().Add(accTestEnv, bson.D{{Key: "x", Value: int32(5)}})
	require.True(t, mongoerr.HasCode(err, 28689), err)
}

// accWindow slides a window of size w over vals with a removable state and returns the
// result after each step.
func accWindow(t *testing.T, op string, arg any, w int, vals ...any) []any {
	t.Helper()
	acc, err := expr.CompileAccumulator(op, arg, expr.InWindow)
	require.NoError(t, err)
	st, ok, err := acc.NewRemovableState(accTestEnv)
	require.NoError(t, err)
	require.True(t, ok, op)
	doc := func(v any) bson.D {
		if v == accNoValue {
			return bson.D{}
		}
		return bson.D{{Key: "x", Value: v}}
	}
	var out []any
	for i, v := range vals {
		require.NoError(t, st.Add(accTestEnv, doc(v)))
		if i >= w {
			require.NoError(t, st.Remove(accTestEnv, doc(vals[i-w])))
		}
		r, err := st.Result()
		require.NoError(t, err)
		out = append(out, r)
	}
	return out
}

func TestRemovableStates(t *testing.T) {
	n2 := func(extra ...bson.E) bson.D {
		return append(bson.D{{Key: "input", Value: "$x"}, {Key: "n", Value: int32(2)}}, extra...)
	}
	top := func(n bool) bson.D {
		d := bson.D{{Key: "sortBy", Value: bson.D{{Key: "x", Value: int32(1)}}}, {Key: "output", Value: "$x"}}
		if n {
			d = append(d, bson.E{Key: "n", Value: int32(2)})
		}
		return d
	}
	median := bson.D{{Key: "input", Value: "$x"}, {Key: "method", Value: "approximate"}}
	for _, tc := range []struct {
		op   string
		arg  any
		w    int
		vals []any
		want []any
	}{
		// The window sum narrows back to the types still in the window.
		{"$sum", "$x", 2, []any{int32(1), 2.5, int32(3), int32(4)}, []any{int32(1), 3.5, 5.5, int32(7)}},
		{"$sum", "$x", 1, []any{int64(5), int32(6)}, []any{int32(5), int32(6)}},
		{"$sum", "$x", 2, []any{math.Inf(1), int32(1), int32(2)}, []any{math.Inf(1), math.Inf(1), int32(3)}},
		{"$sum", "$x", 2, []any{accDec(t, "1.5"), int32(1), int32(2)}, []any{accDec(t, "1.5"), accDec(t, "2.5"), int32(3)}},
		{"$count", bson.D{}, 2, []any{"a", "b", "c"}, []any{int32(1), int32(2), int32(2)}},
		{"$avg", "$x", 2, []any{int32(1), int32(2), "x", int32(4)}, []any{1.0, 1.5, 2.0, 4.0}},
		{"$avg", "$x", 1, []any{int32(1), "x"}, []any{1.0, nil}},
		{"$stdDevPop", "$x", 2, []any{int32(1), int32(3), int32(5)}, []any{int32(0), 1.0, 1.0}},
		{"$stdDevSamp", "$x", 2, []any{int32(1), int32(3), math.NaN(), int32(5)}, []any{nil, math.Sqrt2, math.NaN(), math.NaN()}},
		{"$min", "$x", 2, []any{int32(3), int32(1), int32(2), nil}, []any{int32(3), int32(1), int32(1), int32(2)}},
		{"$max", "$x", 2, []any{int32(3), int32(1), int32(2), accNoValue, accNoValue}, []any{int32(3), int32(3), int32(2), int32(2), nil}},
		{"$push", "$x", 2, []any{int32(1), accNoValue, int32(3)}, []any{bson.A{int32(1)}, bson.A{int32(1)}, bson.A{int32(3)}}},
		{"$addToSet", "$x", 3, []any{int32(2), int32(1), int32(2), int32(3)},
			[]any{bson.A{int32(2)}, bson.A{int32(1), int32(2)}, bson.A{int32(1), int32(2)}, bson.A{int32(1), int32(2), int32(3)}}},
		{"$first", "$x", 2, []any{int32(1), accNoValue, int32(3)}, []any{int32(1), int32(1), nil}},
		{"$last", "$x", 2, []any{int32(1), accNoValue, int32(3)}, []any{int32(1), nil, int32(3)}},
		{"$firstN", n2(), 3, []any{int32(1), int32(2), int32(3), int32(4)},
			[]any{bson.A{int32(1)}, bson.A{int32(1), int32(2)}, bson.A{int32(1), int32(2)}, bson.A{int32(2), int32(3)}}},
		{"$lastN", n2(), 3, []any{int32(1), accNoValue, int32(3), int32(4)},
			[]any{bson.A{int32(1)}, bson.A{int32(1), nil}, bson.A{nil, int32(3)}, bson.A{int32(3), int32(4)}}},
		{"$minN", n2(), 3, []any{int32(5), int32(1), nil, int32(3), int32(9)},
			[]any{bson.A{int32(5)}, bson.A{int32(1), int32(5)}, bson.A{int32(1), int32(5)}, bson.A{int32(1), int32(3)}, bson.A{int32(3), int32(9)}}},
		{"$maxN", n2(), 2, []any{int32(5), int32(1), int32(3)},
			[]any{bson.A{int32(5)}, bson.A{int32(5), int32(1)}, bson.A{int32(3), int32(1)}}},
		{"$topN", top(true), 3, []any{int32(5), int32(1), int32(3), int32(9)},
			[]any{bson.A{int32(5)}, bson.A{int32(1), int32(5)}, bson.A{int32(1), int32(3)}, bson.A{int32(1), int32(3)}}},
		{"$bottomN", top(true), 2, []any{int32(5), int32(1), int32(3)},
			[]any{bson.A{int32(5)}, bson.A{int32(1), int32(5)}, bson.A{int32(1), int32(3)}}},
		{"$top", top(false), 2, []any{int32(5), int32(1), int32(3)}, []any{int32(5), int32(1), int32(1)}},
		{"$bottom", top(false), 2, []any{int32(5), int32(1), int32(3)}, []any{int32(5), int32(5), int32(3)}},
		{"$median", median, 3, []any{int32(5), int32(1), "x", int32(3), int32(9)}, []any{5.0, 1.0, 1.0, 1.0, 3.0}},
	} {
		got := accWindow(t, tc.op, tc.arg, tc.w, tc.vals...)
		require.Equal(t, len(tc.want), len(got), tc.op)
		for i := range got {
			require.Truef(t, conformance.Same(tc.want[i], got[i]), "%s step %d: want %s got %s", tc.op, i, conformance.Show(tc.want[i]), conformance.Show(got[i]))
		}
	}
}

func TestRemovableStateAvailability(t *testing.T) {
	acc, err := expr.CompileAccumulator("$mergeObjects", "$x", expr.InGroup)
	require.NoError(t, err)
	_, ok, err := acc.NewRemovableState(accTestEnv)
	require.NoError(t, err)
	require.False(t, ok)
	// Group states are not removable: their semantics differ from the window forms.
	acc, err = expr.CompileAccumulator("$sum", "$x", expr.InGroup)
	require.NoError(t, err)
	_, removable := acc.NewState().(expr.RemovableState)
	require.False(t, removable)

	// In windows n must be a number without looking at a document.
	acc, err = expr.CompileAccumulator("$firstN", bson.D{{Key: "input", Value: "$x"}, {Key: "n", Value: "$x"}}, expr.InWindow)
	require.NoError(t, err)
	_, _, err = acc.NewRemovableState(accTestEnv)
	require.True(t, mongoerr.HasCode(err, 5788501), err)
	acc, err = expr.CompileAccumulator("$firstN", bson.D{{Key: "input", Value: "$x"}, {Key: "n", Value: int32(-1)}}, expr.InWindow)
	require.NoError(t, err)
	_, _, err = acc.NewRemovableState(accTestEnv)
	require.True(t, mongoerr.HasCode(err, 5787908), err)
}

func TestTopBottomTies(t *testing.T) {
	// With equal sort keys the documents seen first are kept ($topN) and later ones
	// replace earlier ones only when strictly greater ($bottomN).
	docs := []bson.D{
		{{Key: "k", Value: int32(1)}, {Key: "v", Value: int32(1)}},
		{{Key: "k", Value: int32(1)}, {Key: "v", Value: int32(2)}},
		{{Key: "k", Value: int32(10)}, {Key: "v", Value: int32(3)}},
		{{Key: "k", Value: int32(10)}, {Key: "v", Value: int32(4)}},
		{{Key: "k", Value: int32(10)}, {Key: "v", Value: int32(5)}},
	}
	run := func(op string, order []int) any {
		spec := bson.D{{Key: "n", Value: int32(3)}, {Key: "sortBy", Value: bson.D{{Key: "k", Value: int32(1)}}}, {Key: "output", Value: "$v"}}
		acc, err := expr.CompileAccumulator(op, spec, expr.InGroup)
		require.NoError(t, err)
		st := acc.NewState()
		for _, i := range order {
			require.NoError(t, st.Add(accTestEnv, docs[i]))
		}
		r, err := st.Result()
		require.NoError(t, err)
		return r
	}
	require.Equal(t, bson.A{int32(3), int32(4), int32(5)}, run("$bottomN", []int{0, 1, 2, 3, 4}))
	require.Equal(t, bson.A{int32(1), int32(3), int32(4)}, run("$bottomN", []int{2, 3, 0, 1}))
	require.Equal(t, bson.A{int32(1), int32(2), int32(3)}, run("$topN", []int{0, 1, 2, 3, 4}))
	require.Equal(t, bson.A{int32(1), int32(2), int32(3)}, run("$topN", []int{2, 3, 4, 0, 1}))
}

func TestAccumulatorConcurrentUse(t *testing.T) {
	acc, err := expr.CompileAccumulator("$topN", bson.D{
		{Key: "n", Value: int32(2)}, {Key: "sortBy", Value: bson.D{{Key: "x", Value: int32(-1)}}}, {Key: "output", Value: "$x"},
	}, expr.InGroup)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := acc.NewGroupState(accTestEnv, nil)
			if err != nil {
				t.Error(err)
				return
			}
			for i := int32(0); i < 200; i++ {
				if err := st.Add(accTestEnv, bson.D{{Key: "x", Value: i}}); err != nil {
					t.Error(err)
					return
				}
			}
			r, err := st.Result()
			if err != nil || !conformance.Same(bson.A{int32(199), int32(198)}, r) {
				t.Errorf("got %v, %v", r, err)
			}
		}()
	}
	wg.Wait()
}

func BenchmarkGroupSum(b *testing.B) {
	acc, err := expr.CompileAccumulator("$sum", "$x", expr.InGroup)
	require.NoError(b, err)
	st := acc.NewState()
	doc := bson.D{{Key: "_id", Value: int32(1)}, {Key: "x", Value: int32(3)}}
	b.ReportAllocs()
	for b.Loop() {
		_ = st.Add(accTestEnv, doc)
	}
}

func BenchmarkExpressionSum(b *testing.B) {
	e, err := expr.Compile(bson.D{{Key: "$sum", Value: "$a"}})
	require.NoError(b, err)
	doc := bson.D{{Key: "a", Value: bson.A{int32(1), 2.5, int64(3), "x"}}}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = e.Eval(accTestEnv, doc)
	}
}

func TestConcatArraysAndSetUnion(t *testing.T) {
	got, err := accFold(t, "$concatArrays", "$x", bson.A{int32(1), int32(2)}, accNoValue, bson.A{}, bson.A{int32(2), bson.A{int32(3)}})
	require.NoError(t, err)
	require.Equal(t, bson.A{int32(1), int32(2), int32(2), bson.A{int32(3)}}, got)
	got, err = accFold(t, "$setUnion", "$x", bson.A{int32(1), int32(2)}, accNoValue, bson.A{2.0, int32(3)})
	require.NoError(t, err)
	require.Equal(t, bson.A{int32(1), int32(2), int32(3)}, got)
	for _, op := range []string{"$concatArrays", "$setUnion"} {
		_, err = accFold(t, op, "$x", bson.A{}, nil)
		require.True(t, mongoerr.HasCode(err, mongoerr.TypeMismatch), err)
	}
}

func TestFunctionIsNotSupported(t *testing.T) {
	_, err := expr.Compile(bson.D{{Key: "$function", Value: bson.D{
		{Key: "body", Value: "function() { return 1 }"}, {Key: "args", Value: bson.A{}}, {Key: "lang", Value: "js"},
	}}})
	require.True(t, mongoerr.HasCode(err, mongoerr.NotImplemented), err)
}

func TestConformanceCaseNamesAreUnique(t *testing.T) {
	for _, file := range []string{"accumulator_expression.json", "group.json"} {
		cases, err := conformance.Load(file)
		require.NoError(t, err)
		seen := map[string]bool{}
		for _, c := range cases {
			require.Falsef(t, seen[c.Name], "%s: duplicate case name %q", file, c.Name)
			seen[c.Name] = true
			if file == "accumulator_expression.json" {
				require.LessOrEqual(t, len(c.Docs), 1, c.Name)
			}
		}
	}
}

func TestConstantSum(t *testing.T) {
	// mongod adds a constant without compensation, widening int to long to double.
	for _, tc := range []struct {
		c    any
		n    int
		want any
	}{
		{int32(1), 3, int32(3)},
		{int32(math.MaxInt32), 2, int64(2 * math.MaxInt32)},
		{int64(math.MaxInt64 / 2), 3, float64(math.MaxInt64/2) * 3},
		{int64(1), 0, int64(0)},
		{2.5, 0, 0.0},
		{0.1, 10, 0.9999999999999999},
	} {
		acc, err := expr.CompileAccumulator("$sum", tc.c, expr.InGroup)
		require.NoError(t, err)
		st := acc.NewState()
		for i := 0; i < tc.n; i++ {
			require.NoError(t, st.Add(accTestEnv, bson.D{}))
		}
		got, err := st.Result()
		require.NoError(t, err)
		require.Truef(t, conformance.Same(tc.want, got), "%v×%d: got %s", tc.c, tc.n, conformance.Show(got))
	}
}
