package expr_test

import (
	"slices"
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/conformance"
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// expressionFiles are the conformance files of expression cases: each case has an "expr",
// at most one document in "docs" (default {_id: 1}) and an expected value, "missing" or an
// error code.
var expressionFiles = []string{
	"expression.json",
	"expression_strings_dates.json",
	"accumulator_expression.json",
}

// conformanceEnv fixes $$NOW for the cases: 2020-01-01T00:00:00Z.
var conformanceEnv = &expr.Env{Now: bson.DateTime(1577836800000)}

// TestExpressionConformance runs every expression case of every expression file that
// exists directly against the compiler, no server involved.
func TestExpressionConformance(t *testing.T) {
	ran := 0
	for _, file := range expressionFiles {
		if !slices.Contains(conformance.Files(), file) {
			continue
		}
		cases, err := conformance.Load(file)
		require.NoError(t, err)
		t.Run(file, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.Name, func(t *testing.T) { runExpressionCase(t, c) })
			}
		})
		ran += len(cases)
	}
	require.NotZero(t, ran)
}

func TestExpressionConformanceFileSize(t *testing.T) {
	cases, err := conformance.Load("expression.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(cases), 250)
	seen := map[string]bool{}
	for _, c := range cases {
		require.Falsef(t, seen[c.Name], "duplicate case name %q", c.Name)
		seen[c.Name] = true
		require.LessOrEqualf(t, len(c.Docs), 1, "case %q has more than one document", c.Name)
	}
}

func runExpressionCase(t *testing.T, c conformance.Case) {
	doc := bson.D{{Key: "_id", Value: int32(1)}}
	if len(c.Docs) > 0 {
		doc = c.Docs[0]
	}
	got, err := func() (any, error) {
		e, err := expr.Compile(c.Expr)
		if err != nil {
			return nil, err
		}
		return e.Eval(conformanceEnv, doc)
	}()
	switch {
	case c.Error != 0:
		require.Errorf(t, err, "want error %d, got %s", c.Error, conformance.Show(got))
		require.Truef(t, mongoerr.HasCode(err, c.Error), "want code %d, got %v", c.Error, err)
	case c.Missing:
		require.NoError(t, err)
		require.Truef(t, value.IsMissing(got), "want missing, got %s", conformance.Show(got))
	default:
		require.NoError(t, err)
		require.Truef(t, conformance.Same(c.Expect, got), "want %s\n got %s", conformance.Show(c.Expect), conformance.Show(got))
	}
}
