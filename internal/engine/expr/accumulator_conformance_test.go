package expr_test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/conformance"
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// accSame reports whether two values are identical: same types throughout (an int32 is
// not an int64 or a double), same field order, decimals with the same digits and
// exponent, NaN equal to NaN.
func accSame(a, b any) bool {
	switch x := a.(type) {
	case bson.D:
		y, ok := b.(bson.D)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if x[i].Key != y[i].Key || !accSame(x[i].Value, y[i].Value) {
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
			if !accSame(x[i], y[i]) {
				return false
			}
		}
		return true
	case float64:
		y, ok := b.(float64)
		return ok && (x == y && math.Signbit(x) == math.Signbit(y) || math.IsNaN(x) && math.IsNaN(y))
	case bson.Decimal128:
		y, ok := b.(bson.Decimal128)
		return ok && x.String() == y.String()
	}
	if value.TypeOf(a) != value.TypeOf(b) {
		return false
	}
	return value.Compare(a, b) == 0
}

func accShow(v any) string {
	if value.IsMissing(v) {
		return "<missing>"
	}
	b, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, true, false)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

var accTestEnv = &expr.Env{Now: bson.DateTime(1577836800000)}

func TestAccumulatorExpressionConformance(t *testing.T) {
	cases, err := conformance.Load("accumulator_expression.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(cases), 60)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			doc := bson.D{}
			if len(c.Docs) > 0 {
				doc = c.Docs[0]
			}
			got, err := func() (any, error) {
				e, err := expr.Compile(c.Expr)
				if err != nil {
					return nil, err
				}
				return e.Eval(accTestEnv, doc)
			}()
			switch {
			case c.Error != 0:
				require.Error(t, err)
				require.Truef(t, mongoerr.HasCode(err, c.Error), "want code %d, got %v", c.Error, err)
			case c.Missing:
				require.NoError(t, err)
				require.Truef(t, value.IsMissing(got), "want missing, got %s", accShow(got))
			default:
				require.NoError(t, err)
				require.Truef(t, accSame(c.Expect, got), "want %s\n got %s", accShow(c.Expect), accShow(got))
			}
		})
	}
}

// accGroup runs [{$group: spec}, {$sort: {_id: 1}}] over docs with a minimal grouping
// loop: the real $group stage lives elsewhere and runs the same cases.
func accGroup(pipeline bson.A, docs []bson.D) ([]bson.D, error) {
	if len(pipeline) != 2 {
		return nil, fmt.Errorf("pipeline must be [$group, $sort]")
	}
	stage, _ := pipeline[0].(bson.D)
	sortStage, _ := pipeline[1].(bson.D)
	if len(stage) != 1 || stage[0].Key != "$group" || len(sortStage) != 1 || sortStage[0].Key != "$sort" ||
		!accSame(sortStage[0].Value, bson.D{{Key: "_id", Value: int32(1)}}) {
		return nil, fmt.Errorf("pipeline must be [$group, {$sort: {_id: 1}}]")
	}
	spec, ok := stage[0].Value.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(15947, "a group's fields must be specified in an object")
	}
	var idExpr *expr.Expr
	type field struct {
		name string
		acc  *expr.Accumulator
	}
	var fields []field
	for _, e := range spec {
		if e.Key == "_id" {
			var err error
			if idExpr, err = expr.Compile(e.Value); err != nil {
				return nil, err
			}
			continue
		}
		d, ok := e.Value.(bson.D)
		if !ok || len(d) == 0 || !strings.HasPrefix(d[0].Key, "$") {
			return nil, mongoerr.Newf(40234, "The field '%s' must be an accumulator object", e.Key)
		}
		if len(d) != 1 {
			return nil, mongoerr.Newf(40238, "The field '%s' must specify one accumulator", e.Key)
		}
		acc, err := expr.CompileAccumulator(d[0].Key, d[0].Value, expr.InGroup)
		if err != nil {
			return nil, err
		}
		fields = append(fields, field{e.Key, acc})
	}
	if idExpr == nil {
		return nil, mongoerr.Newf(15955, "a group specification must include an _id")
	}
	type group struct {
		key    any
		states []expr.State
	}
	var groups []*group
	for _, doc := range docs {
		key, err := idExpr.Eval(accTestEnv, doc)
		if err != nil {
			return nil, err
		}
		if value.IsMissing(key) {
			key = nil
		}
		var g *group
		for _, cand := range groups {
			if value.Equal(cand.key, key) {
				g = cand
				break
			}
		}
		if g == nil {
			g = &group{key: key}
			for _, f := range fields {
				st, err := f.acc.NewGroupState(accTestEnv, key)
				if err != nil {
					return nil, err
				}
				g.states = append(g.states, st)
			}
			groups = append(groups, g)
		}
		for _, st := range g.states {
			if err := st.Add(accTestEnv, doc); err != nil {
				return nil, err
			}
		}
	}
	slices.SortStableFunc(groups, func(a, b *group) int { return value.Compare(a.key, b.key) })
	out := make([]bson.D, 0, len(groups))
	for _, g := range groups {
		d := bson.D{{Key: "_id", Value: g.key}}
		for i, st := range g.states {
			v, err := st.Result()
			if err != nil {
				return nil, err
			}
			d = append(d, bson.E{Key: fields[i].name, Value: v})
		}
		out = append(out, d)
	}
	return out, nil
}

func TestGroupConformance(t *testing.T) {
	cases, err := conformance.Load("group.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(cases), 100)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			got, err := accGroup(c.Pipeline, c.Docs)
			if c.Error != 0 {
				require.Error(t, err)
				require.Truef(t, mongoerr.HasCode(err, c.Error), "want code %d, got %v", c.Error, err)
				return
			}
			require.NoError(t, err)
			want, ok := c.Expect.(bson.A)
			require.True(t, ok, "expect must be an array of documents")
			gotA := make(bson.A, len(got))
			for i, d := range got {
				gotA[i] = d
			}
			require.Truef(t, accSame(want, gotA), "want %s\n got %s", accShow(want), accShow(gotA))
		})
	}
}
