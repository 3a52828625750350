package agg

import (
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// varEquality is a condition {$expr: {$eq: ["$field", "$$var"]}} of a leading $match. The
// matcher evaluates it as an expression, which no index answers; but for a given value of
// the variable it implies the plain query {field: {$eq: value}}, which one does. This is
// how a $lookup sub-pipeline correlated through its let variables uses the foreign
// collection's index.
type varEquality struct {
	path  string     // the field, dotted
	value *expr.Expr // the side that reads only variables
}

// condition returns the plain equality for this run's variable values. It declines the
// values for which the query would not describe a superset of the expression's matches:
// arrays (an expression compares a traversed path's array of values as a whole), regular
// expressions (a query matches them as patterns), missing and undefined.
func (eq varEquality) condition(env *expr.Env) (bson.D, bool) {
	v, err := eq.value.Eval(env, nil)
	if err != nil || value.IsMissing(v) {
		return nil, false
	}
	switch v.(type) {
	case bson.A, bson.Regex, bson.Undefined:
		return nil, false
	}
	return bson.D{{Key: eq.path, Value: bson.D{{Key: "$eq", Value: v}}}}, true
}

// varEqualities finds the field-to-variable equalities of a $match filter: in its $expr,
// directly or under $and, and in the same places under a top-level $and.
func varEqualities(filter bson.D, vars []string) []varEquality {
	var out []varEquality
	for _, e := range filter {
		switch e.Key {
		case "$expr":
			out = exprEqualities(out, e.Value, vars)
		case "$and":
			arr, _ := e.Value.(bson.A)
			for _, sub := range arr {
				if d, ok := sub.(bson.D); ok {
					out = append(out, varEqualities(d, vars)...)
				}
			}
		}
	}
	return out
}

func exprEqualities(out []varEquality, spec any, vars []string) []varEquality {
	d, ok := spec.(bson.D)
	if !ok || len(d) != 1 {
		return out
	}
	args, _ := d[0].Value.(bson.A)
	switch d[0].Key {
	case "$and":
		for _, a := range args {
			out = exprEqualities(out, a, vars)
		}
	case "$eq":
		if len(args) != 2 {
			return out
		}
		for _, pair := range [2][2]any{{args[0], args[1]}, {args[1], args[0]}} {
			path, ok := plainFieldPath(pair[0])
			if !ok || !readsOnlyVariables(pair[1]) {
				continue
			}
			e, err := expr.Compile(pair[1], vars...)
			if err != nil {
				return out
			}
			return append(out, varEquality{path: path, value: e})
		}
	}
	return out
}

// plainFieldPath reports whether v is a field path expression ("$a.b") and returns the
// path without its "$".
func plainFieldPath(v any) (string, bool) {
	s, ok := v.(string)
	if !ok || !strings.HasPrefix(s, "$") || strings.HasPrefix(s, "$$") {
		return "", false
	}
	if _, err := value.SplitFieldPath(s[1:]); err != nil {
		return "", false
	}
	return s[1:], true
}

// systemVars are the variables that are not user variables: their values depend on the
// document or mean something else.
var systemVars = map[string]bool{
	"ROOT": true, "CURRENT": true, "REMOVE": true, "NOW": true, "CLUSTER_TIME": true,
	"DESCEND": true, "PRUNE": true, "KEEP": true, "SEARCH_META": true, "USER_ROLES": true,
}

// readsOnlyVariables reports whether v is a user variable reference ("$$x" or "$$x.a"),
// whose value is the same for every document of one run.
func readsOnlyVariables(v any) bool {
	s, ok := v.(string)
	if !ok || !strings.HasPrefix(s, "$$") {
		return false
	}
	name, _, _ := strings.Cut(s[2:], ".")
	return name != "" && !systemVars[name]
}
