package expr_test

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// spec parses relaxed extended JSON into an expression spec.
func spec(t testing.TB, s string) any {
	t.Helper()
	var d bson.D
	require.NoError(t, bson.UnmarshalExtJSON([]byte(`{"e": `+s+`}`), false, &d))
	return d[0].Value
}

func evalSpec(t testing.TB, s string, doc bson.D) (any, error) {
	t.Helper()
	e, err := expr.Compile(spec(t, s))
	if err != nil {
		return nil, err
	}
	return e.Eval(&expr.Env{}, doc)
}

func TestConstantFolding(t *testing.T) {
	for _, tc := range []struct {
		spec  string
		value any
	}{
		{`{"$add": [1, 2]}`, int32(3)},
		{`{"$cond": [true, "a", "$x"]}`, "a"},
		{`{"$and": ["$x", false]}`, false},
		{`{"$or": [{"$eq": ["$x", 1]}, 1]}`, true},
		{`{"$switch": {"branches": [{"case": false, "then": 1}], "default": 2}}`, int32(2)},
		{`{"$toInt": "42"}`, int32(42)},
	} {
		e, err := expr.Compile(spec(t, tc.spec))
		require.NoError(t, err, tc.spec)
		v, ok := e.IsConstant()
		require.True(t, ok, tc.spec)
		require.Equal(t, tc.value, v, tc.spec)
	}
	for _, s := range []string{`{"$rand": {}}`, `{"$add": ["$a", 1]}`, `{"$getField": {"field": "a", "input": {"a": 1}}}`} {
		e, err := expr.Compile(spec(t, s))
		require.NoError(t, err)
		_, ok := e.IsConstant()
		require.False(t, ok, s)
	}
}

// mongod evaluates constant sub-expressions while optimizing, so their errors fail the
// command even when no document would reach them.
func TestConstantErrorsAtCompile(t *testing.T) {
	for _, tc := range []struct {
		spec string
		code int32
	}{
		{`{"$divide": [1, 0]}`, 2},
		{`{"$cond": [false, {"$divide": [1, 0]}, 1]}`, 2},
		{`{"$add": ["$a", "x", 1]}`, 14},
		{`{"$switch": {"branches": [{"case": false, "then": 1}]}}`, 40069},
		{`{"$indexOfArray": ["abc", "$x"]}`, 50809},
		{`{"$setIsSubset": ["$a", "x"]}`, 17311},
		{`{"$setEquals": ["$a", 1]}`, 5887502},
	} {
		_, err := expr.Compile(spec(t, tc.spec))
		require.Truef(t, mongoerr.HasCode(err, tc.code), "%s: want %d, got %v", tc.spec, tc.code, err)
	}
}

func TestVersionSpecificBehaviour(t *testing.T) {
	doc := bson.D{{Key: "_id", Value: int32(1)}}
	for _, tc := range []struct {
		spec string
		want any
	}{
		// MongoDB 7.2+: the result of $mod has the wider operand type.
		{`{"$mod": [5, 2.0]}`, 1.0},
		{`{"$mod": [{"$numberLong": "5"}, 2.0]}`, 1.0},
		// $toString of a double prints six significant digits (C's %g), as mongod 7/8 do.
		{`{"$toString": 1.23456789}`, "1.23457"},
		{`{"$toString": 1e20}`, "1e+20"},
		{`{"$toString": -0.0}`, "-0"},
		// Dates plus fractional milliseconds round half away from zero.
		{`{"$add": [{"$date": "2020-01-01T00:00:00Z"}, 1.5]}`, bson.DateTime(1577836800002)},
		{`{"$subtract": [{"$date": "2020-01-01T00:00:00Z"}, 0.5]}`, bson.DateTime(1577836799999)},
	} {
		got, err := evalSpec(t, tc.spec, doc)
		require.NoError(t, err, tc.spec)
		require.Equal(t, tc.want, got, tc.spec)
	}
}

func TestDecimalResults(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{`{"$sqrt": {"$numberDecimal": "4"}}`, "2"},
		{`{"$sqrt": {"$numberDecimal": "0.04"}}`, "0.2"},
		{`{"$sqrt": {"$numberDecimal": "4.00"}}`, "2.0"},
		{`{"$add": [{"$numberDecimal": "1"}, 0.1]}`, "1.100000000000000"},
		{`{"$multiply": [{"$numberDecimal": "2"}, 0.5]}`, "1.000000000000000"},
		{`{"$ceil": {"$numberDecimal": "0.07"}}`, "1"},
		{`{"$floor": {"$numberDecimal": "-0.07"}}`, "-1"},
		{`{"$round": [{"$numberDecimal": "-0.3"}]}`, "-0"},
		{`{"$degreesToRadians": {"$numberDecimal": "180"}}`, "3.141592653589793238462643383279503"},
		{`{"$radiansToDegrees": {"$numberDecimal": "1"}}`, "57.29577951308232087679815481410517"},
		{`{"$multiply": [4, {"$atan": {"$numberDecimal": "1"}}]}`, "3.141592653589793238462643383279503"},
		{`{"$acos": {"$numberDecimal": "-1"}}`, "3.141592653589793238462643383279503"},
		{`{"$tanh": {"$numberDecimal": "1000"}}`, "1.000000000000000000000000000000000"},
		{`{"$tanh": {"$numberDecimal": "-1E+10"}}`, "-1.000000000000000000000000000000000"},
		{`{"$sin": {"$numberDecimal": "0"}}`, "0"},
	} {
		got, err := evalSpec(t, tc.spec, nil)
		require.NoError(t, err, tc.spec)
		d, ok := got.(bson.Decimal128)
		require.True(t, ok, "%s gave %T", tc.spec, got)
		require.Equal(t, tc.want, d.String(), tc.spec)
	}
	// sin² + cos² = 1 to decimal128 precision, with a large argument reduced exactly.
	for _, x := range []string{"1", "-2.5", "1E+20", "123456789.123456789"} {
		got, err := evalSpec(t, fmt.Sprintf(`{"$add": [{"$pow": [{"$sin": {"$numberDecimal": %q}}, 2]}, {"$pow": [{"$cos": {"$numberDecimal": %q}}, 2]}]}`, x, x), nil)
		require.NoError(t, err)
		d, err := value.ToDecimal(got)
		require.NoError(t, err)
		f, _ := d.Float64()
		require.InDelta(t, 1, f, 1e-30, x)
	}
}

func TestVariables(t *testing.T) {
	e, err := expr.Compile(spec(t, `{"$add": ["$$x", "$a"]}`), "x")
	require.NoError(t, err)
	got, err := e.Eval(&expr.Env{Vars: map[string]any{"x": int32(2)}}, bson.D{{Key: "a", Value: int32(3)}})
	require.NoError(t, err)
	require.Equal(t, int32(5), got)

	_, err = expr.Compile(spec(t, `"$$x"`))
	require.True(t, mongoerr.HasCode(err, 17276))

	now := bson.DateTime(1577836800000)
	e, err = expr.Compile(spec(t, `{"$add": ["$$NOW", 1]}`))
	require.NoError(t, err)
	got, err = e.Eval(&expr.Env{Now: now}, nil)
	require.NoError(t, err)
	require.Equal(t, now+1, got)

	// $map may rebind CURRENT too; it is restored afterwards.
	got, err = evalSpec(t, `{"$concatArrays": [{"$map": {"input": "$xs", "as": "CURRENT", "in": "$v"}}, ["$v"]]}`,
		bson.D{{Key: "v", Value: "top"}, {Key: "xs", Value: bson.A{bson.D{{Key: "v", Value: int32(1)}}, bson.D{}}}})
	require.NoError(t, err)
	require.Equal(t, bson.A{int32(1), nil, "top"}, got)

	// Nested binders use their own slots.
	got, err = evalSpec(t, `{"$map": {"input": [1, 2], "as": "a", "in": {"$map": {"input": [10, 20], "as": "b", "in": {"$add": ["$$a", "$$b"]}}}}}`, nil)
	require.NoError(t, err)
	require.Equal(t, bson.A{bson.A{int32(11), int32(21)}, bson.A{int32(12), int32(22)}}, got)
}

func TestWalkPath(t *testing.T) {
	doc := bson.D{{Key: "a", Value: bson.A{
		bson.D{{Key: "b", Value: int32(1)}},
		bson.A{bson.D{{Key: "b", Value: int32(2)}}},
		int32(3),
		bson.D{{Key: "c", Value: int32(4)}},
		bson.D{{Key: "b", Value: bson.A{int32(5)}}},
	}}}
	require.Equal(t, bson.A{int32(1), bson.A{int32(5)}}, expr.WalkPath(doc, "a.b"))
	require.True(t, value.IsMissing(expr.WalkPath(doc, "x.y")))
}

func TestSortArrayIsStable(t *testing.T) {
	got, err := evalSpec(t, `{"$sortArray": {"input": [{"k": 1, "n": "a"}, {"k": 0, "n": "b"}, {"k": 1, "n": "c"}, {"n": "d"}], "sortBy": {"k": 1}}}`, nil)
	require.NoError(t, err)
	var names []string
	for _, d := range got.(bson.A) {
		names = append(names, value.Get(d.(bson.D), "n").(string))
	}
	require.Equal(t, []string{"d", "b", "a", "c"}, names)
}

func TestOperandsAreNotModified(t *testing.T) {
	arr := bson.A{int32(3), int32(1), int32(2)}
	doc := bson.D{{Key: "xs", Value: arr}, {Key: "d", Value: bson.D{{Key: "a", Value: int32(1)}}}}
	for _, s := range []string{
		`{"$reverseArray": "$xs"}`,
		`{"$sortArray": {"input": "$xs", "sortBy": 1}}`,
		`{"$setField": {"field": "a", "input": "$d", "value": 5}}`,
		`{"$mergeObjects": ["$d", {"a": 2}]}`,
		`{"$concatArrays": ["$xs", [4]]}`,
	} {
		_, err := evalSpec(t, s, doc)
		require.NoError(t, err, s)
	}
	require.Equal(t, bson.A{int32(3), int32(1), int32(2)}, arr)
	require.Equal(t, bson.D{{Key: "a", Value: int32(1)}}, value.Get(doc, "d"))
}

func TestNotImplementedConvertOptions(t *testing.T) {
	_, err := expr.Compile(spec(t, `{"$convert": {"input": "AQI=", "to": "binData", "format": "base64"}}`))
	require.True(t, mongoerr.HasCode(err, mongoerr.NotImplemented))
	_, err = evalSpec(t, `{"$convert": {"input": "$x", "to": {"type": "binData", "subtype": 4}}}`, bson.D{{Key: "x", Value: "a"}})
	require.True(t, mongoerr.HasCode(err, mongoerr.NotImplemented))
}

func TestRand(t *testing.T) {
	e, err := expr.Compile(spec(t, `{"$rand": {}}`))
	require.NoError(t, err)
	seen := map[float64]bool{}
	for range 100 {
		v, err := e.Eval(nil, nil)
		require.NoError(t, err)
		f := v.(float64)
		require.True(t, f >= 0 && f < 1)
		seen[f] = true
	}
	require.Greater(t, len(seen), 90)
}

// Malformed arguments must give errors, never panics.
func TestNoPanicOnMalformedSpecs(t *testing.T) {
	ops := []string{"$abs", "$add", "$ceil", "$divide", "$exp", "$floor", "$ln", "$log", "$log10", "$mod",
		"$multiply", "$pow", "$round", "$sqrt", "$subtract", "$trunc", "$arrayElemAt", "$arrayToObject",
		"$concatArrays", "$filter", "$in", "$indexOfArray", "$isArray", "$map", "$objectToArray", "$range",
		"$reduce", "$reverseArray", "$size", "$slice", "$sortArray", "$zip", "$and", "$or", "$not", "$cmp",
		"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$cond", "$ifNull", "$switch", "$let", "$literal",
		"$getField", "$mergeObjects", "$setField", "$unsetField", "$allElementsTrue", "$anyElementTrue",
		"$setDifference", "$setEquals", "$setIntersection", "$setIsSubset", "$setUnion", "$sin", "$cos",
		"$tan", "$asin", "$acos", "$atan", "$atan2", "$sinh", "$cosh", "$tanh", "$asinh", "$acosh", "$atanh",
		"$degreesToRadians", "$radiansToDegrees", "$convert", "$isNumber", "$toBool", "$toDate",
		"$toDecimal", "$toDouble", "$toInt", "$toLong", "$toObjectId", "$toString", "$type", "$rand"}
	dec, _ := bson.ParseDecimal128("1E+6000")
	args := []any{nil, int32(1), int64(-1), math.NaN(), math.Inf(1), dec, "a", "$a", "$$CURRENT", true,
		bson.A{}, bson.A{nil}, bson.A{bson.A{}}, bson.A{"$a", "$b"}, bson.A{int32(1), int32(2), int32(3), int32(4), int32(5)},
		bson.D{}, bson.D{{Key: "a", Value: int32(1)}}, bson.D{{Key: "input", Value: "$a"}},
		bson.D{{Key: "input", Value: "$a"}, {Key: "to", Value: "$b"}, {Key: "in", Value: "$a"}, {Key: "as", Value: int32(1)}},
		bson.D{{Key: "branches", Value: bson.A{bson.D{{Key: "case", Value: "$a"}}}}},
		bson.D{{Key: "vars", Value: int32(1)}, {Key: "in", Value: int32(1)}},
		bson.D{{Key: "field", Value: int32(1)}, {Key: "input", Value: "$a"}, {Key: "value", Value: "$b"}},
		bson.D{{Key: "inputs", Value: bson.A{"$a"}}, {Key: "defaults", Value: int32(1)}},
		bson.D{{Key: "input", Value: "$a"}, {Key: "sortBy", Value: bson.D{{Key: "a..b", Value: int32(1)}}}},
	}
	docs := []bson.D{
		nil,
		{{Key: "a", Value: bson.A{int32(1), "x", bson.D{{Key: "k", Value: "k"}, {Key: "v", Value: nil}}}}, {Key: "b", Value: dec}},
		{{Key: "a", Value: bson.D{{Key: "x", Value: int32(1)}}}, {Key: "b", Value: "int"}},
		{{Key: "a", Value: math.MaxInt64}, {Key: "b", Value: int32(-1)}},
	}
	for _, op := range ops {
		for _, a := range args {
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("%s %v panicked: %v", op, a, r)
					}
				}()
				e, err := expr.Compile(bson.D{{Key: op, Value: a}})
				if err != nil {
					return
				}
				for _, d := range docs {
					_, _ = e.Eval(nil, d)
				}
			}()
		}
	}
}

func TestConcurrentEval(t *testing.T) {
	e, err := expr.Compile(spec(t, `{"$map": {"input": "$xs", "as": "x", "in": {"$let": {"vars": {"y": {"$multiply": ["$$x", 2]}}, "in": {"$add": ["$$y", 1]}}}}}`))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			doc := bson.D{{Key: "xs", Value: bson.A{int32(g), int32(g + 1)}}}
			for range 200 {
				v, err := e.Eval(nil, doc)
				if err != nil || !value.Equal(v, bson.A{int32(2*g + 1), int32(2*g + 3)}) {
					t.Errorf("goroutine %d got %v %v", g, v, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkArithmetic(b *testing.B) {
	e, err := expr.Compile(spec(b, `{"$add": [{"$multiply": ["$price", "$qty"]}, 1]}`))
	require.NoError(b, err)
	doc := bson.D{{Key: "price", Value: int32(10)}, {Key: "qty", Value: 3.5}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Eval(nil, doc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFilter(b *testing.B) {
	e, err := expr.Compile(spec(b, `{"$filter": {"input": "$xs", "cond": {"$gt": ["$$this", 5]}}}`))
	require.NoError(b, err)
	xs := bson.A{}
	for i := range 20 {
		xs = append(xs, int32(i))
	}
	doc := bson.D{{Key: "xs", Value: xs}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Eval(nil, doc); err != nil {
			b.Fatal(err)
		}
	}
}
