package expr_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/conformance"
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// sdSame reports whether two values are identical, types included (an int32 is not an
// int64), with documents compared field by field in order.
func sdSame(a, b any) bool {
	switch x := a.(type) {
	case bson.D:
		y, ok := b.(bson.D)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i].Key != y[i].Key || !sdSame(x[i].Value, y[i].Value) {
				return false
			}
		}
		return true
	case bson.A:
		y, ok := b.(bson.A)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sdSame(x[i], y[i]) {
				return false
			}
		}
		return true
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || math.IsNaN(x) && math.IsNaN(y))
	case bson.Decimal128:
		y, ok := b.(bson.Decimal128)
		return ok && x.String() == y.String()
	}
	return value.TypeOf(a) == value.TypeOf(b) && value.Compare(a, b) == 0
}

func sdShow(v any) string {
	if value.IsMissing(v) {
		return "<missing>"
	}
	b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, true, false)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

// sdEval compiles spec and evaluates it against doc.
func sdEval(spec any, doc bson.D) (any, error) {
	e, err := expr.Compile(spec)
	if err != nil {
		return nil, err
	}
	return e.Eval(&expr.Env{Now: bson.DateTime(1577836800000)}, doc)
}

func TestStringDateConformance(t *testing.T) {
	cases, err := conformance.Load("expression_strings_dates.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(cases), 200)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			doc := bson.D{{Key: "_id", Value: int32(1)}}
			if len(c.Docs) > 0 {
				doc = c.Docs[0]
			}
			got, err := sdEval(c.Expr, doc)
			switch {
			case c.Error != 0:
				require.Errorf(t, err, "want error %d, got %s", c.Error, sdShow(got))
				require.Truef(t, mongoerr.HasCode(err, c.Error), "want code %d, got %v", c.Error, err)
			case c.Missing:
				require.NoError(t, err)
				require.Truef(t, value.IsMissing(got), "want missing, got %s", sdShow(got))
			default:
				require.NoError(t, err)
				require.Truef(t, sdSame(c.Expect, got), "want %s\n got %s", sdShow(c.Expect), sdShow(got))
			}
		})
	}
}
